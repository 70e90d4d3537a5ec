// -----------------------------------------------------------------------------
// File: backends/windows/windows_channel.h
// -----------------------------------------------------------------------------
//
// Windows only: the message-passing facilities of api/backend.h. A channel
// pair is a named pipe of a fresh random name, `\\.\pipe\mproc-channel-<32 hex
// digits>`, with exactly one instance (FILE_FLAG_FIRST_PIPE_INSTANCE, local
// clients only, a DACL for the current user alone), connected at once to
// its client end: both ends are overlapped, byte-mode handles. A child gets
// an end as it gets the shared-state objects (windows_shared.h: an
// inheritable copy of the handle, listed in the launch message). The peer
// sees ERROR_BROKEN_PIPE (end-of-stream; kUnavailable on write) once every
// handle to an end is closed.
//
// WaitReady: a zero-byte overlapped ReadFile per end (it completes when data
// arrives or the pipe breaks, and consumes nothing) and a copy of each
// child's process handle, in one WaitForMultipleObjects: at most
// MAXIMUM_WAIT_OBJECTS - 1 (63) objects per call.

#ifndef MPROC_BACKENDS_WINDOWS_WINDOWS_CHANNEL_H_
#define MPROC_BACKENDS_WINDOWS_WINDOWS_CHANNEL_H_

#include <array>
#include <memory>

#include "absl/status/statusor.h"
#include "api/backend.h"
#include "backends/windows/win32.h"
#include "gsl/span"

namespace mproc::windows {

// A new connected pair (api/backend.h ChannelPair). Errors:
// CreateNamedPipeW's and CreateFileW's.
[[nodiscard]] absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreateWindowsChannelPair();

// In a child: the end on the inherited pipe handle `pipe` (which it owns).
// `kInvalidArgument` when it is not a pipe.
[[nodiscard]] absl::StatusOr<std::shared_ptr<ChannelEnd>>
AdoptWindowsChannelEnd(Handle pipe);

// api/backend.h WaitReady; `children` must come from LaunchChild.
[[nodiscard]] absl::StatusOr<Backend::Ready> WindowsWaitReady(
    gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
    absl::Time deadline);

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_WINDOWS_CHANNEL_H_
