// -----------------------------------------------------------------------------
// File: backends/windows/windows_launch.h
// -----------------------------------------------------------------------------
//
// Windows only: starting a child (start method "spawn") and the child's side.
//
// Launch runs CreateProcessW of this program (GetModuleFileNameW) with the
// command line `"<program>" --mproc-windows-child=<handle>`, created
// suspended, assigns it to one of this process's two Job objects, and only
// then resumes it: no child ever runs outside a job. kill_on_parent_death
// children (daemons, Manager servers) go in a job with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE that this process holds open for its
// whole life, so they die with it whichever thread started them; the others
// in a plain job. The child inherits exactly the handles in its
// PROC_THREAD_ATTRIBUTE_HANDLE_LIST: the read end of an anonymous pipe that
// carries the launch request (<handle>), its standard streams and, for a
// Manager server, its pipe listener, and inheritable copies (made for this
// launch only) of the handover table's handles (windows_shared.h).
//
// The pipe carries a fixed64 length, then: bytes EncodeLaunchRequest(request),
// bytes listener address ("" for none), fixed64 listener handle, varint n,
// then n times (varint kind, varint size, fixed64 handle): the handover
// table, which the child rebuilds in order into ChildRuntime::handovers.

#ifndef MPROC_BACKENDS_WINDOWS_WINDOWS_LAUNCH_H_
#define MPROC_BACKENDS_WINDOWS_WINDOWS_LAUNCH_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "backends/windows/win32.h"

namespace mproc::windows {

inline constexpr absl::string_view kChildFlag = "--mproc-windows-child=";
// A request larger than this is refused (a corrupt length, not a target).
inline constexpr uint64_t kMaxRequestBytes = uint64_t{1} << 30;
// More handed-over objects than this is refused (a corrupt count).
inline constexpr uint64_t kMaxHandovers = 4096;

// Starts a child for `request`. `kInvalidArgument` when the target is not
// registered or the listener is not this backend's; otherwise the failing
// call's error (CreateProcessW, AssignProcessToJobObject, ...). On error no
// process or handle is left behind.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchChild(
    Backend* backend, const LaunchRequest& request);

// In a program started by LaunchChild (argv says so): reads the request,
// runs it and exits. Otherwise returns at once. A request that cannot be
// read ends the process with exit code 1 and a line on stderr.
void RunWindowsChildIfRequested(Backend* backend, int argc, char** argv);

// A copy of child `child`'s process handle (from LaunchChild), signalled
// once it has ended; an invalid Handle once it has been reaped.
// `kInvalidArgument` for another backend's Child; DuplicateHandle's errors.
[[nodiscard]] absl::StatusOr<Handle> DuplicateChildProcessHandle(Child& child);

// Processes alive in this process's jobs (children and their descendants
// that stayed in them), for the conformance suite's probe.
int64_t LiveJobProcessCount();

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_WINDOWS_LAUNCH_H_
