// The child side shared by every backend (RunChild in api/backend.h).
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/exit.h"
#include "api/internal/process_state.h"

namespace mproc {
namespace {

void ReportTargetFailure(absl::string_view name, absl::string_view error) {
  // One write, so the two lines stay together among concurrent processes.
  internal::WriteStderr(absl::StrCat("Process ", name, ":\n", error, "\n"));
}

StartMethod FindStartMethod(Backend* backend, absl::string_view name) {
  if (backend != nullptr) {
    for (StartMethod& method : backend->start_methods()) {
      if (method.name == name) return method;
    }
  }
  return StartMethod{.name = std::string(name)};
}

}  // namespace

ExitStatus RunChild(const LaunchRequest& request, const ChildRuntime& runtime) {
  auto state = std::make_unique<internal::ProcessState>(
      request.child, runtime,
      FindStartMethod(runtime.backend, request.start_method));
  internal::InstallState(state.get(), runtime.owns_process);

  int code = 0;
  try {
    absl::StatusOr<int> result = request.target.Run();
    if (result.ok()) {
      code = *result;
    } else {
      ReportTargetFailure(request.child.name, result.status().ToString());
      code = 1;
    }
  } catch (const ProcessExit& exit) {
    code = exit.code;  // mproc::Exit(code)
  } catch (const ProcessCancelled&) {
    // The flag below decides the exit.
  } catch (const std::exception& e) {
    ReportTargetFailure(request.child.name, e.what());
    code = 1;
  } catch (...) {
    ReportTargetFailure(request.child.name, "unknown exception");
    code = 1;
  }
  std::fflush(stdout);

  // A cancelled child ends as by its signal, even if it swallowed the unwind.
  const int signal =
      runtime.cancellation != nullptr ? runtime.cancellation->signal() : 0;
  state->BeginExit();
  // The exit code is the target's, except that a success whose pipelined
  // Manager writes were lost (the parent would not see them once Join
  // returns) is a failure, reported once. A connection the target already
  // saw fail changes nothing: the target handled that error.
  const absl::Status lost = state->RunExitRules(/*cancelled=*/signal != 0);
  if (!lost.ok() && signal == 0) {
    ReportTargetFailure(request.child.name, lost.ToString());
    if (code == 0) code = 1;
  }
  std::fflush(stdout);
  std::fflush(stderr);

  if (runtime.owns_process) {
    state.release();  // the process ends with it
  } else {
    internal::InstallState(nullptr, /*owns_process=*/false);
  }
  return signal != 0 ? ExitStatus::Signaled(signal) : ExitStatus::Exited(code);
}

}  // namespace mproc
