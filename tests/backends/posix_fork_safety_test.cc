// POSIX only: posix:fork in a threaded program. A child forked while other
// threads of its parent are inside mproc (or inside any absl::Mutex call)
// must still run to its end, and must hold no descriptor mproc opened for
// its parent or its siblings.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/internal/process_state.h"
#include "api/process.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

// A child that has not ended by then is taken as hung (a healthy one ends in
// about a millisecond).
constexpr absl::Duration kChildDeadline = absl::Seconds(10);

// The child of the hang tests: takes every process-wide lock a child may
// take (the stdout and stderr writers, the backend and target registries,
// its own state) and a fresh absl::Mutex.
int TouchEveryChildLock() {
  PrintLine("child");
  internal::WriteStderr("");
  if (!GetContext("posix:fork").ok()) return 2;
  if (CurrentProcess().name.empty()) return 3;
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  return ActiveChildren().empty() ? 0 : 4;
}
MPROC_REGISTER_TARGET(TouchEveryChildLock);

// Exits with the number of pidfds and sockets it holds: a child of a program
// that opens none itself holds none of mproc's (its own pidfd lives in its
// parent).
int CountInheritedMprocDescriptors() {
  return testing::CountPidfdsAndSockets();
}
MPROC_REGISTER_TARGET(CountInheritedMprocDescriptors);

// Runs each of `loops` on its own thread, over and over while active, until
// destroyed. Inactive, the threads wait (the children get the CPU).
class Hammer {
 public:
  explicit Hammer(std::vector<std::function<void()>> loops) {
    for (std::function<void()>& loop : loops) {
      threads_.emplace_back([this, loop = std::move(loop)] {
        while (WaitUntilActive()) {
          while (active_.load(std::memory_order_acquire)) loop();
        }
      });
    }
  }
  ~Hammer() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    for (std::thread& thread : threads_) thread.join();
  }

  void SetActive(bool active) {
    absl::MutexLock lock(&mu_);
    active_.store(active, std::memory_order_release);
  }

 private:
  // False once the hammer is being destroyed.
  bool WaitUntilActive() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Hammer* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->mu_) {
          return h->stop_ || h->active_.load(std::memory_order_acquire);
        },
        this));
    return !stop_;
  }

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> active_{false};
  std::vector<std::thread> threads_;
};

// Starts `target` on posix:fork (with `hammer`, if any, active during the
// Start: the fork happens amid its threads) and joins it. Returns "" when
// the child exited with 0; otherwise what went wrong (a hung child is killed
// and reaped first, so nothing is left behind).
std::string StartAndJoin(const Context& ctx, TargetCall target,
                         Hammer* hammer = nullptr) {
  Process p = ctx.NewProcess(std::move(target));
  if (hammer != nullptr) hammer->SetActive(true);
  const absl::Status started = p.Start();
  if (hammer != nullptr) hammer->SetActive(false);
  if (!started.ok()) return started.ToString();
  if (absl::Status s = p.Join(kChildDeadline); !s.ok()) return s.ToString();
  if (p.IsAlive()) {
    (void)p.Kill();
    (void)p.Join();
    return absl::StrCat("child ", p.pid().value_or(0), " hung (not ended ",
                        absl::FormatDuration(kChildDeadline),
                        " after its start); killed");
  }
  if (p.exitcode() != 0) {
    return absl::StrCat("child ended with exitcode ", p.exitcode().value_or(0));
  }
  return "";
}

// Sends this process's stdout to /dev/null while it lives (PrintLine from
// the hammering threads and the children would flood the test log).
class StdoutToDevNull {
 public:
  StdoutToDevNull() {
    std::fflush(stdout);
    saved_ = dup(STDOUT_FILENO);
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved_ >= 0 && null >= 0) (void)dup2(null, STDOUT_FILENO);
    if (null >= 0) close(null);
  }
  ~StdoutToDevNull() {
    std::fflush(stdout);
    if (saved_ >= 0) {
      (void)dup2(saved_, STDOUT_FILENO);
      close(saved_);
    }
  }

 private:
  int saved_ = -1;
};

class PosixForkSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Context> context = GetContext("posix:fork");
    ASSERT_OK(context.status());
    ctx_.emplace(*context);
  }
  const Context& ctx() const { return *ctx_; }

 private:
  std::optional<Context> ctx_;
};

TEST_F(PosixForkSafetyTest, ChildrenFinishWhileOtherThreadsCallMproc) {
  std::atomic<int> side_failures{0};
  std::string first_side_failure;
  absl::Mutex side_mu;
  std::string main_failure;
  {
    // Failures are reported once stdout is back.
    const StdoutToDevNull quiet;
    const Context& context = ctx();
    // Two threads cycle through mproc's calls (more busy threads would only
    // starve the forking one on a small machine); a third starts children.
    const std::vector<std::function<void()>> calls = {
        [] { (void)CurrentProcess(); },
        [] { (void)ActiveChildren(); },
        [] { PrintLine("hammer"); },
        [] { internal::WriteStderr(""); },
        [] { (void)GetContext("posix:spawn"); },
        [] { (void)Target(&TouchEveryChildLock); },
    };
    auto cycle = [&calls](size_t first) {
      return
          [&calls, next = first]() mutable { calls[next++ % calls.size()](); };
    };
    Hammer hammer({
        cycle(0),
        cycle(3),
        [&] {
          std::string failure =
              StartAndJoin(context, Target(&TouchEveryChildLock));
          if (failure.empty()) return;
          if (side_failures.fetch_add(1) == 0) {
            absl::MutexLock lock(&side_mu);
            first_side_failure = std::move(failure);
          }
        },
    });
    for (int i = 0; i < 1000 && main_failure.empty(); ++i) {
      const std::string failure =
          StartAndJoin(ctx(), Target(&TouchEveryChildLock), &hammer);
      if (!failure.empty()) {
        main_failure = absl::StrCat("child ", i, " of 1000: ", failure);
      }
    }
  }
  EXPECT_EQ(main_failure, "");
  absl::MutexLock lock(&side_mu);
  EXPECT_EQ(side_failures.load(), 0) << first_side_failure;
}

TEST_F(PosixForkSafetyTest, EightThreadsStartFiftyChildrenEach) {
  std::atomic<int> failures{0};
  std::vector<std::string> first_failure(8);
  std::vector<std::thread> starters;
  for (int t = 0; t < 8; ++t) {
    starters.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string failure = StartAndJoin(ctx(), Target(&TouchEveryChildLock));
        if (failure.empty()) continue;
        failures.fetch_add(1);
        if (first_failure[t].empty()) {
          first_failure[t] = absl::StrCat("thread ", t, " child ", i, ": ",
                                          std::move(failure), "; ");
        }
      }
    });
  }
  for (std::thread& starter : starters) starter.join();
  std::string failures_text;
  for (const std::string& f : first_failure) absl::StrAppend(&failures_text, f);
  EXPECT_EQ(failures.load(), 0) << failures_text;
}

TEST_F(PosixForkSafetyTest, ChildrenHoldNoDescriptorOfParentOrSiblings) {
  std::atomic<int> failures{0};
  std::vector<std::string> first_failure(4);
  std::vector<std::thread> starters;
  for (int t = 0; t < 4; ++t) {
    starters.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        std::string failure =
            StartAndJoin(ctx(), Target(&CountInheritedMprocDescriptors));
        if (failure.empty()) continue;
        failures.fetch_add(1);
        if (first_failure[t].empty()) {
          first_failure[t] = absl::StrCat(
              "thread ", t, " child ", i, ": ", std::move(failure),
              " (the exitcode counts inherited pidfds and sockets); ");
        }
      }
    });
  }
  for (std::thread& starter : starters) starter.join();
  std::string failures_text;
  for (const std::string& f : first_failure) absl::StrAppend(&failures_text, f);
  EXPECT_EQ(failures.load(), 0) << failures_text;
}

}  // namespace
}  // namespace mproc
