// -----------------------------------------------------------------------------
// File: backends/thread/thread_resources.h
// -----------------------------------------------------------------------------
//
// What the thread backend holds right now, for "leaves nothing behind" checks
// (the conformance suite's resource probe).

#ifndef MPROC_BACKENDS_THREAD_THREAD_RESOURCES_H_
#define MPROC_BACKENDS_THREAD_THREAD_RESOURCES_H_

#include <cstdint>

namespace mproc::thread {

// Children launched and not yet reaped (running, or ended but not waited for):
// the thread backend's "live children and zombies".
int64_t UnreapedChildCount();

// In-memory channels and listeners that exist: part of the thread backend's
// "open descriptors".
int64_t OpenTransportCount();

// Shared memory blocks and semaphores that exist (thread_shared.h): the rest
// of its "open descriptors".
int64_t OpenSharedObjectCount();

// Channel end holds open now (thread_channel.h): also "open descriptors".
int64_t OpenChannelEndCount();

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_THREAD_RESOURCES_H_
