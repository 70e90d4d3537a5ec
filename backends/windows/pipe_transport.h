// -----------------------------------------------------------------------------
// File: backends/windows/pipe_transport.h
// -----------------------------------------------------------------------------
//
// Windows only: the Manager transport over named pipes. A listener's address
// is its pipe name, `\\.\pipe\mproc-<32 random hex digits>`, made with
// FILE_FLAG_FIRST_PIPE_INSTANCE (nobody else can own the name),
// PIPE_REJECT_REMOTE_CLIENTS and a DACL that grants the current user alone;
// the Manager's authkey handshake runs on top. Byte mode, overlapped I/O: a
// read waits for data, the deadline or Close, whichever comes first.

#ifndef MPROC_BACKENDS_WINDOWS_PIPE_TRANSPORT_H_
#define MPROC_BACKENDS_WINDOWS_PIPE_TRANSPORT_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/backend.h"
#include "backends/windows/win32.h"

namespace mproc::windows {

// PipeListener
//
// Keeps one pipe instance waiting for a client at all times (from Listen on),
// so a client may connect before Accept is called. Accept hands the
// connected instance to a Channel and creates the next one.
class PipeListener final : public Listener {
 public:
  // Takes `instance`, a waiting server instance of pipe `address`.
  PipeListener(std::string address, Handle instance, Handle close_event);
  ~PipeListener() override;

  std::string address() const override { return address_; }
  // Waits for the next client. `kCancelled` once Close has been called;
  // `kResourceExhausted` / `kUnavailable` when the next instance cannot be
  // made (the caller backs off and retries).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> Accept() override;
  void Close() override;

  // The waiting instance, for handing to a Manager server child.
  HANDLE instance() const { return instance_.get(); }
  // In the parent, once a server child has its own copy of the instance:
  // drops this process's copy; Accept here returns kCancelled.
  void MarkHandedOver();

 private:
  const std::string address_;
  Handle instance_;
  Handle close_event_;  // manual reset; set by Close
  std::atomic<bool> closed_{false};
};

// A listener at a fresh private pipe name. Errors: CreateNamedPipeW's
// (ERROR_ACCESS_DENIED -> kPermissionDenied for a name already taken, ...).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Listener>> ListenPipe();

// In a Manager server child: the listener whose waiting instance it inherited.
std::shared_ptr<Listener> AdoptPipeListener(Handle instance,
                                            std::string address);

// Connects to `address` (a PipeListener's), waiting up to 10 s while every
// instance is busy. `kUnavailable` when nobody listens there;
// `kInvalidArgument` when it is not an mproc pipe name.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> ConnectPipe(
    absl::string_view address);

// Pipe channels and listeners open now (the conformance suite's probe).
int64_t OpenPipeTransportCount();

// A server instance of pipe `name`: duplex, byte mode, overlapped, local
// clients only, with a DACL that grants the current user alone; `first`
// makes it the first instance (FILE_FLAG_FIRST_PIPE_INSTANCE: the name must
// be new). At most `max_instances` instances of the name
// (PIPE_UNLIMITED_INSTANCES for a listener's). Errors: CreateNamedPipeW's.
[[nodiscard]] absl::StatusOr<Handle> NewPrivatePipeInstance(
    const std::wstring& name, bool first, DWORD max_instances);

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_PIPE_TRANSPORT_H_
