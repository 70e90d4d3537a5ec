// -----------------------------------------------------------------------------
// File: workloads/pool.h
// -----------------------------------------------------------------------------
//
// Registered Pool tasks (api/pool.h), for the conformance suite, the example
// and the benchmarks. Each runs on every backend and start method.

#ifndef MPROC_WORKLOADS_POOL_H_
#define MPROC_WORKLOADS_POOL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/manager_sync.h"
#include "api/shared_value.h"

namespace mproc::workloads {

// x * x.
int64_t Square(int64_t x);

// A deterministic integer loop of `rounds` xorshift steps, for CPU-bound
// benchmarks: its result depends on every step, so the compiler cannot fold
// it, and its time grows linearly with `rounds`.
int64_t SpinWork(int64_t rounds);

// `text` repeated `times` times.
std::string Repeat(std::string text, int64_t times);

// x, or `kInvalidArgument` "negative input <x>" for x < 0.
absl::StatusOr<int64_t> FailOnNegative(int64_t x);

// x, but throws std::runtime_error("seven is unlucky") for 7.
int64_t ThrowOnSeven(int64_t x);

// The pid of the worker that runs it (CurrentProcess().pid); ignores `x`.
int64_t WorkerPid(int64_t x);

// Ends its worker with mproc::Exit(code) (a worker that dies mid-task, the
// same way on every backend); never returns.
int64_t ExitWorker(int64_t code);

// Sets `started`, then waits for `release` and returns 1 (or its error).
// Never released, it runs until its worker is ended (the wait is a
// cancellation point on thread).
absl::StatusOr<int64_t> WaitForRelease(EventProxy started, EventProxy release);

// Creates a Pool of one worker in the caller's context: OK (1) where that is
// allowed, or the error Pool::Create gave.
absl::StatusOr<int64_t> CreateNestedPool(int64_t x);

// A Pool initializer (a registered target): adds 1 to `initialized` under
// its lock and remembers `tag` for WorkerTag in this process.
absl::Status RememberTag(Value<int64_t> initialized, int64_t tag);

// The tag RememberTag set in this worker (0 if none did); ignores `x`.
int64_t WorkerTag(int64_t x);

// A Pool initializer that fails: `kUnavailable` with `why`.
absl::Status RefuseToInitialize(std::string why);

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_POOL_H_
