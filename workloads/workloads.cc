#include "workloads/workloads.h"

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "api/cancellation.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/exit.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/target.h"

namespace mproc::workloads {
namespace {

std::atomic<int64_t> global_counter{0};

// Runs DoSomething(count) into a list of a Manager this process starts.
absl::StatusOr<int64_t> DoSomethingInOwnManager(int64_t count) {
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  absl::StatusOr<Manager> manager = context->StartManager();
  if (!manager.ok()) return manager.status();
  absl::StatusOr<ListProxy<double>> list = manager->List<double>();
  if (!list.ok()) return list.status();
  if (absl::Status s = DoSomething(count, *list); !s.ok()) return s;
  absl::StatusOr<int64_t> size = list->Size();
  if (!size.ok()) return size.status();
  if (absl::Status s = manager->Shutdown(); !s.ok()) return s;
  return size;
}

}  // namespace

absl::Status DoSomething(int64_t count, ListProxy<double> out) {
  absl::BitGen random;
  for (int64_t i = 0; i < count; ++i) {
    if (absl::Status s = out.Append(absl::Uniform<double>(random, 0.0, 1.0));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(DoSomething);

absl::Status NamedDoSomething(int64_t count, ListProxy<double> out) {
  PrintLine(absl::StrCat("name: ", CurrentProcess().name));
  return DoSomething(count, out);
}
MPROC_REGISTER_TARGET(NamedDoSomething);

absl::Status DoSomethingWithOwnManager(int64_t count, int64_t work_millis) {
  PrintLine("Starting function");
  Sleep(absl::Milliseconds(work_millis));
  absl::StatusOr<int64_t> results = DoSomethingInOwnManager(count);
  if (!results.ok()) return results.status();
  PrintLine(absl::StrCat("Finished function with ", *results, " results."));
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(DoSomethingWithOwnManager);

absl::Status SpawnLoopItem(int64_t i) {
  PrintLine(absl::StrCat("calling do_something from process no: ", i));
  absl::StatusOr<int64_t> results = DoSomethingInOwnManager(i * 1000);
  if (!results.ok()) return results.status();
  PrintLine(
      absl::StrCat("Process ", i, " finished with ", *results, " results."));
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(SpawnLoopItem);

absl::Status BackgroundWork(int64_t count) {
  const std::string name = CurrentProcess().name;
  absl::StatusOr<int64_t> results = DoSomethingInOwnManager(count);
  if (!results.ok()) return results.status();
  PrintLine(absl::StrCat("Exiting ", name));
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(BackgroundWork);

void RunUntilTerminated() {
  PrintLine("Starting function");
  while (true) Sleep(absl::Milliseconds(20));
}
MPROC_REGISTER_TARGET(RunUntilTerminated);

absl::Status SwallowCancellationOnce() {
  try {
    try {
      RunUntilTerminated();
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat(
          "the unwind was caught as a std::exception: ", e.what()));
    }
  } catch (...) {
    PrintLine("swallowed");
  }
  // The request is still pending: this point unwinds again.
  while (true) Sleep(absl::Milliseconds(20));
}
MPROC_REGISTER_TARGET(SwallowCancellationOnce);

absl::Status CallManagerUntilTerminated(ListProxy<int64_t> list) {
  if (absl::Status s = list.Append(1); !s.ok()) return s;
  while (true) {
    // A cancelled child's call fails; the cancellation point unwinds it.
    (void)list.Size();
    CancellationPoint();
  }
}
MPROC_REGISTER_TARGET(CallManagerUntilTerminated);

void SleepMillis(int64_t millis) { Sleep(absl::Milliseconds(millis)); }
MPROC_REGISTER_TARGET(SleepMillis);

void BurnCpu(int64_t iterations) {
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  [[maybe_unused]] static volatile uint64_t sink;
  sink = x;
}
MPROC_REGISTER_TARGET(BurnCpu);

int ExitWith(int64_t code) { return static_cast<int>(code); }
MPROC_REGISTER_TARGET(ExitWith);

absl::Status FailWith(int64_t code, std::string message) {
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}
MPROC_REGISTER_TARGET(FailWith);

void ThrowError(std::string what) { throw std::runtime_error(what); }
MPROC_REGISTER_TARGET(ThrowError);

void Print(std::string line) { PrintLine(line); }
MPROC_REGISTER_TARGET(Print);

void PrintIdentity() {
  const ProcessInfo self = CurrentProcess();
  const std::optional<ProcessInfo> parent = ParentProcess();
  PrintLine(absl::StrCat("name=", self.name, " pid=", self.pid,
                         " parent=", parent ? parent->name : "", ":",
                         parent ? parent->pid : 0, " daemon=", self.daemon));
}
MPROC_REGISTER_TARGET(PrintIdentity);

absl::Status ReportIdentity(ListProxy<std::string> out) {
  const ProcessInfo self = CurrentProcess();
  const std::optional<ProcessInfo> parent = ParentProcess();
  if (absl::Status s = out.Append(self.name); !s.ok()) return s;
  if (absl::Status s = out.Append(absl::StrCat(self.pid)); !s.ok()) return s;
  if (absl::Status s = out.Append(parent ? parent->name : ""); !s.ok())
    return s;
  return out.Append(absl::StrCat(parent ? parent->pid : 0));
}
MPROC_REGISTER_TARGET(ReportIdentity);

absl::Status AppendRange(int64_t start, int64_t count, ListProxy<int64_t> out) {
  for (int64_t i = start; i < start + count; ++i) {
    if (absl::Status s = out.Append(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(AppendRange);

absl::Status SpawnGrandchild(ListProxy<std::string> out) {
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  Process child = context->NewProcess(Target(&ReportIdentity, out));
  if (absl::Status s = child.Start(); !s.ok()) return s;
  if (absl::Status s = child.Join(); !s.ok()) return s;
  if (child.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat("grandchild exitcode ", child.exitcode().value_or(-1000)));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(SpawnGrandchild);

absl::Status SumInto(std::vector<int64_t> values, ListProxy<int64_t> out) {
  int64_t sum = 0;
  for (int64_t v : values) sum += v;
  return out.Append(sum);
}
MPROC_REGISTER_TARGET(SumInto);

absl::Status StartDaemonGrandchildAndReturn(ListProxy<std::string> out) {
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  Process grandchild =
      context->NewProcess(Target(&RunUntilTerminated), {.daemon = true});
  if (absl::Status s = grandchild.Start(); !s.ok()) return s;
  return out.Append(grandchild.name());
}
MPROC_REGISTER_TARGET(StartDaemonGrandchildAndReturn);

absl::Status StartGrandchildAndReturn(int64_t count, ListProxy<int64_t> out) {
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  Process grandchild = context->NewProcess(Target(&AppendRange, 0, count, out));
  return grandchild.Start();
}
MPROC_REGISTER_TARGET(StartGrandchildAndReturn);

absl::Status ReportSelfControlErrors(ListProxy<std::string> out) {
  absl::StatusOr<Context> here = GetContext();
  if (!here.ok()) return here.status();
  std::optional<Context> sharing;
  for (const StartMethod& method : here->backend().start_methods()) {
    if (!method.runs_closures) continue;
    absl::StatusOr<Context> found =
        GetContext(absl::StrCat(here->backend().name(), ":", method.name));
    if (!found.ok()) return found.status();
    sharing = *found;
    break;
  }
  if (!sharing.has_value()) {
    return absl::FailedPreconditionError(
        "this backend has no start method that shares memory");
  }
  auto self = std::make_shared<std::optional<Process>>();
  *self = sharing->NewProcess(Target([self, out]() -> absl::Status {
    for (const absl::Status& s : {(*self)->Join(absl::ZeroDuration()),
                                  (*self)->Terminate(), (*self)->Kill()}) {
      if (absl::Status a = out.Append(std::string(s.message())); !a.ok()) {
        return a;
      }
    }
    return absl::OkStatus();
  }));
  if (absl::Status s = (*self)->Start(); !s.ok()) return s;
  if (absl::Status s = (*self)->Join(); !s.ok()) return s;
  const std::optional<int> code = (*self)->exitcode();
  self->reset();  // the closure holds `self`: break the cycle
  if (code != 0) {
    return absl::InternalError(
        absl::StrCat("grandchild exitcode ", code.value_or(-1000)));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(ReportSelfControlErrors);

int ExitWithDaemonFlag() { return CurrentProcess().daemon ? 20 : 10; }
MPROC_REGISTER_TARGET(ExitWithDaemonFlag);

absl::Status CopySize(ListProxy<int64_t> in, ListProxy<int64_t> out) {
  absl::StatusOr<int64_t> size = in.Size();
  if (!size.ok()) return size.status();
  return out.Append(*size);
}
MPROC_REGISTER_TARGET(CopySize);

void PrintLines(int64_t count, std::string text) {
  const std::string name = CurrentProcess().name;
  for (int64_t i = 0; i < count; ++i) {
    PrintLine(absl::StrCat(name, " ", i, " ", text));
  }
}
MPROC_REGISTER_TARGET(PrintLines);

absl::Status ReadyThenWaitForGo(ListProxy<int64_t> ready,
                                ListProxy<int64_t> go) {
  if (absl::Status s = ready.Append(1); !s.ok()) return s;
  while (true) {
    absl::StatusOr<int64_t> size = go.Size();  // also sends the append
    if (!size.ok()) return size.status();
    if (*size > 0) return absl::OkStatus();
    Sleep(absl::Milliseconds(1));
  }
}
MPROC_REGISTER_TARGET(ReadyThenWaitForGo);

absl::Status StartOrphansThenRunUntilKilled(std::string context,
                                            bool from_worker_thread,
                                            ListProxy<int64_t> pids,
                                            ListProxy<std::string> addresses) {
  absl::StatusOr<Context> ctx = GetContext(context);
  if (!ctx.ok()) return ctx.status();
  std::optional<Process> daemon;
  std::optional<Manager> manager;
  absl::Status started;
  auto start = [&] {
    daemon.emplace(
        ctx->NewProcess(Target(&RunUntilTerminated), {.daemon = true}));
    started = daemon->Start();
    if (!started.ok()) return;
    absl::StatusOr<Manager> made = ctx->StartManager();
    if (!made.ok()) {
      started = made.status();
      return;
    }
    manager.emplace(*std::move(made));
  };
  if (from_worker_thread) {
    std::thread(start).join();
  } else {
    start();
  }
  if (!started.ok()) return started;
  if (absl::Status s = pids.Append(*daemon->pid()); !s.ok()) return s;
  if (absl::Status s = pids.Append(*manager->pid()); !s.ok()) return s;
  if (absl::Status s = addresses.Append(manager->address()); !s.ok()) return s;
  if (absl::Status s = pids.Size().status(); !s.ok()) return s;  // sent
  RunUntilTerminated();
  return absl::InternalError("RunUntilTerminated returned");
}
MPROC_REGISTER_TARGET(StartOrphansThenRunUntilKilled);

absl::Status HandleLostManager(ListProxy<int64_t> data,
                               ListProxy<int64_t> ready,
                               ListProxy<int64_t> go) {
  if (absl::Status s = data.Append(1); !s.ok()) return s;
  if (absl::Status s = data.Size().status(); !s.ok()) return s;
  if (absl::Status s = ReadyThenWaitForGo(ready, go); !s.ok()) return s;
  if (data.Size().ok()) {
    return absl::InternalError("the Manager answered after its shutdown");
  }
  return absl::OkStatus();  // handled: the Manager is gone, and we know it
}
MPROC_REGISTER_TARGET(HandleLostManager);

absl::Status LosePipelinedWrite(ListProxy<int64_t> data,
                                ListProxy<int64_t> ready,
                                ListProxy<int64_t> go) {
  if (absl::Status s = data.Size().status(); !s.ok()) return s;
  if (absl::Status s = data.Append(1); !s.ok()) return s;
  return ReadyThenWaitForGo(ready, go);
}
MPROC_REGISTER_TARGET(LosePipelinedWrite);

void ExitEarly(int64_t code) {
  PrintLine("before exit");
  Exit(static_cast<int>(code));
  PrintLine("after exit");
}
MPROC_REGISTER_TARGET(ExitEarly);

void AppendThenExit(int64_t value, int64_t code, ListProxy<int64_t> out) {
  if (out.Append(value).ok()) Exit(static_cast<int>(code));
}
MPROC_REGISTER_TARGET(AppendThenExit);

void SetGlobalCounter(int64_t value) { global_counter.store(value); }
MPROC_REGISTER_TARGET(SetGlobalCounter);

int64_t GlobalCounter() { return global_counter.load(); }

}  // namespace mproc::workloads
