// -----------------------------------------------------------------------------
// File: api/fork_safety.h
// -----------------------------------------------------------------------------
//
// Part of the porting interface (api/backend.h), for backends that fork.
//
// A backend whose start method forks a process that may have other threads
// (the child then has only the forking thread, with every lock as it was)
// does three things, so that the child's side (RunChild and what the target
// calls in mproc) never waits on a lock held by a thread that is not there:
//
//   * during static initialisation, before any thread exists (e.g. in its
//     registration): `EnableForkSafety()`;
//   * around fork, holds mproc's fork locks: `PrepareFork()` right before
//     fork(), then `AfterForkInParent()` in the parent (also when fork
//     failed) and `AfterForkInChild()` first thing in the child. Keep the
//     span short: no blocking call and no other mproc call in between;
//   * holds its own process-wide locks that the child may take the same way,
//     and makes "create a handle + record it" and "forget a handle + close
//     it" exclusive with fork, so a child never holds a handle of its
//     parent's that is not recorded as such.

#ifndef MPROC_API_FORK_SAFETY_H_
#define MPROC_API_FORK_SAFETY_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mproc {

// The current time, as absl::Now() gives it, without taking any lock.
// absl::Now() refreshes its clock calibration under a process-wide spin
// lock, which a child forked while another thread held it inherits held for
// ever: mproc's own code (deadlines in Join, Wait, the exit rules, the Manager
// server) uses this instead, and so should a backend's.
absl::Time ForkSafeNow();

// Turns off absl::Mutex deadlock detection for the whole program: with it on
// (Debian's Abseil is built that way), every Mutex operation takes one
// process-wide spin lock, and a child forked while any thread is inside any
// Mutex call spins for ever on its first lock. A program that turns it back
// on loses fork safety. Call before any other thread exists; returns true
// (for static initialisers).
bool EnableForkSafety();

// Acquires, on the calling thread, every process-wide mutex of mproc that a
// forked child may take, in a fixed order (and makes sure the calling thread
// needs no further Abseil allocation in the child).
void PrepareFork();
// In the parent after fork() (or after it failed): releases them.
void AfterForkInParent();
// In the child after fork(): makes them usable again (free, no waiters).
void AfterForkInChild();

// In a forked child, for a mutex the forking thread held across fork (a
// backend's own fork lock): starts it afresh, free and without waiters.
// Unlocking it instead could spin for ever on the mutex's internal spin bit
// (a parent thread may have held it while queueing as a waiter) or hand it
// to a waiter that does not exist here. Only while this is the only thread.
void ResetMutexInForkedChild(absl::Mutex& mu);

}  // namespace mproc

#endif  // MPROC_API_FORK_SAFETY_H_
