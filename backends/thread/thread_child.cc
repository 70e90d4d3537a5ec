// Thread backend only: std::thread children with cooperative cancellation.
#include "backends/thread/thread_child.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/thread/thread_channel.h"
#include "backends/thread/thread_resources.h"
#include "backends/thread/thread_shared.h"

namespace mproc::thread {
namespace {

std::atomic<int64_t> unreaped_children{0};

// The synthetic pids of children whose RunChild has not returned.
ABSL_CONST_INIT absl::Mutex running_mu(absl::kConstInit);
absl::flat_hash_set<int64_t>& RunningChildren()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(running_mu) {
  static auto* running = new absl::flat_hash_set<int64_t>();
  return *running;
}

void SetRunning(int64_t pid, bool running) {
  absl::MutexLock lock(&running_mu);
  if (running) {
    RunningChildren().insert(pid);
  } else {
    RunningChildren().erase(pid);
  }
}

// Shared by the child's thread and its Child handle.
struct ChildState {
  absl::Mutex mu;
  std::optional<ExitStatus> exit ABSL_GUARDED_BY(mu);
  // The handle let go of a running child: the thread counts itself reaped.
  bool detached ABSL_GUARDED_BY(mu) = false;
  const std::shared_ptr<CancellationFlag> cancellation =
      std::make_shared<CancellationFlag>();
};

class ThreadChild final : public Child {
 public:
  ThreadChild(int64_t pid, std::shared_ptr<ChildState> state,
              std::thread thread)
      : pid_(pid), state_(std::move(state)), thread_(std::move(thread)) {}

  ~ThreadChild() override {
    bool ended;
    {
      absl::MutexLock lock(&state_->mu);
      ended = state_->exit.has_value();
      if (!ended) state_->detached = true;
    }
    absl::MutexLock lock(&join_mu_);
    if (!thread_.joinable()) return;
    if (ended) {
      thread_.join();
      unreaped_children.fetch_sub(1);
    } else {
      thread_.detach();  // runs on, as an unjoined process would
    }
  }

  int64_t pid() const override { return pid_; }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    std::optional<ExitStatus> exit;
    {
      ChildState& state = *state_;
      state.mu.LockWhenWithDeadline(
          absl::Condition(
              +[](ChildState* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return s->exit.has_value();
              },
              &state),
          deadline);
      exit = state.exit;
      state.mu.Unlock();
    }
    if (exit.has_value()) {
      absl::MutexLock lock(&join_mu_);
      if (thread_.joinable()) {
        thread_.join();  // the thread has published its exit: this is quick
        unreaped_children.fetch_sub(1);
      }
    }
    return exit;
  }

  // True once RunChild has returned (the thread may still be finishing).
  bool Ended() const {
    absl::MutexLock lock(&state_->mu);
    return state_->exit.has_value();
  }

  absl::Status Terminate() override {
    state_->cancellation->Request(kTerminateSignal);
    return absl::OkStatus();
  }

  absl::Status Kill() override {
    state_->cancellation->Request(kKillSignal);
    return absl::OkStatus();
  }

 private:
  const int64_t pid_;
  const std::shared_ptr<ChildState> state_;
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace

absl::Status ThreadStartError(const std::system_error& error,
                              absl::string_view name) {
  // std::thread reports errno values (generic_category) on every platform.
  const std::error_condition condition = error.code().default_error_condition();
  const absl::StatusCode code =
      condition.category() == std::generic_category()
          ? absl::ErrnoToStatus(condition.value(), "").code()
          : absl::StatusCode::kUnknown;
  return absl::Status(
      code, absl::StrCat("cannot start a thread for process '", name,
                         "': ", error.what(),
                         "; end some children, or raise the thread limit"));
}

int64_t UnreapedChildCount() { return unreaped_children.load(); }

bool IsThreadChildRunning(int64_t pid) {
  absl::MutexLock lock(&running_mu);
  return RunningChildren().contains(pid);
}

absl::StatusOr<std::unique_ptr<Child>> LaunchThreadChild(
    Backend* backend, const LaunchRequest& request, int64_t pid) {
  // The child's own holds on the channel ends it is handed (thread_channel.h).
  absl::StatusOr<std::vector<std::shared_ptr<SharedObject>>> handovers =
      ChildHandovers(request.handovers);
  if (!handovers.ok()) return handovers.status();
  LaunchRequest own = request;
  if (std::any_of(handovers->begin(), handovers->end(),
                  [](const std::shared_ptr<SharedObject>& object) {
                    return IsThreadChannelEnd(object.get());
                  }) &&
      request.target.registered()) {
    // Run the target from its encoded arguments, as a re-executed child
    // does, so its Connections are its own holds, not this thread's.
    own.target = TargetCall::FromRegistered(request.target.name(),
                                            request.target.encoded_args());
  }
  own.handovers = *std::move(handovers);
  auto state = std::make_shared<ChildState>();
  std::thread thread;
  SetRunning(pid, true);
  try {
    thread = std::thread([backend, state, pid, own = std::move(own)]() mutable {
      const ExitStatus exit =
          RunChild(own, ChildRuntime{.pid = pid,
                                     .backend = backend,
                                     .cancellation = state->cancellation,
                                     .owns_process = false,
                                     .listener = own.listener,
                                     .handovers = own.handovers});
      // What the child held ends with it, as a process's descriptors do.
      own = LaunchRequest();
      SetRunning(pid, false);
      {
        absl::MutexLock lock(&state->mu);
        state->exit = exit;
        if (state->detached) unreaped_children.fetch_sub(1);
      }
      NotifyThreadReadiness();
    });
  } catch (const std::system_error& e) {
    SetRunning(pid, false);
    return ThreadStartError(e, request.child.name);
  }
  unreaped_children.fetch_add(1);
  return std::make_unique<ThreadChild>(pid, std::move(state),
                                       std::move(thread));
}

absl::StatusOr<bool> ThreadChildEnded(Child& child) {
  auto* thread_child = dynamic_cast<ThreadChild*>(&child);
  if (thread_child == nullptr) {
    return absl::InvalidArgumentError(
        "a Process of another backend was passed to the thread backend's "
        "Wait; wait on objects of one context's backend");
  }
  return thread_child->Ended();
}

}  // namespace mproc::thread
