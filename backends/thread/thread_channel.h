// -----------------------------------------------------------------------------
// File: backends/thread/thread_channel.h
// -----------------------------------------------------------------------------
//
// Thread backend only: the message-passing facilities of api/backend.h. A
// channel pair is two in-memory byte pipes (unbounded: a write never waits).
// An end object is one *hold* on an end, as a descriptor is: a child is
// handed a new hold (ChildHandovers), so a parent that closes its own still
// leaves the child's open, and the peer reads end-of-stream once every hold
// is closed. Blocking reads and WaitReady watch the calling child's stop
// token: a cancelled child gets kCancelled.
//
// WaitReady waits on one process-wide "something changed" signal that every
// write, close and child end raises while anyone waits.

#ifndef MPROC_BACKENDS_THREAD_THREAD_CHANNEL_H_
#define MPROC_BACKENDS_THREAD_THREAD_CHANNEL_H_

#include <array>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "gsl/span"

namespace mproc::thread {

// A new connected pair (api/backend.h ChannelPair).
[[nodiscard]] absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreateThreadChannelPair();

// True when `object` is a channel end of this backend.
bool IsThreadChannelEnd(const SharedObject* object);

// The handover table as a child gets it: a new hold on each channel end, the
// other objects as they are. `kFailedPrecondition` for a channel end closed
// in this process; `kInvalidArgument` for an object another backend made.
[[nodiscard]] absl::StatusOr<std::vector<std::shared_ptr<SharedObject>>>
ChildHandovers(const std::vector<std::shared_ptr<SharedObject>>& objects);

// api/backend.h WaitReady; `children` must come from LaunchThreadChild.
[[nodiscard]] absl::StatusOr<Backend::Ready> ThreadWaitReady(
    gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
    absl::Time deadline);

// Wakes WaitReady calls to look again (a child has ended).
void NotifyThreadReadiness();

// Channel end holds open now (the resource probe).
int64_t OpenChannelEndCount();

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_THREAD_CHANNEL_H_
