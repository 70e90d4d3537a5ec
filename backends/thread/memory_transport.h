// -----------------------------------------------------------------------------
// File: backends/thread/memory_transport.h
// -----------------------------------------------------------------------------
//
// Thread backend only: Manager transport over in-memory byte pipes. It
// carries the same encoded frames as a socket would; addresses are
// "thread:<n>" and valid within this OS process.

#ifndef MPROC_BACKENDS_THREAD_MEMORY_TRANSPORT_H_
#define MPROC_BACKENDS_THREAD_MEMORY_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"

namespace mproc::thread {

// A listener at a fresh address.
std::unique_ptr<Listener> ListenInMemory();

// Connects to the listener at `address`. `kUnavailable` when none listens
// there (closed, or never opened).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> ConnectInMemory(
    absl::string_view address);

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_MEMORY_TRANSPORT_H_
