// -----------------------------------------------------------------------------
// File: api/pool.h
// -----------------------------------------------------------------------------
//
// Pool, as CPython's multiprocessing.Pool: worker processes that run task
// functions on inputs and send the results back.
//
//   int64_t Square(int64_t x) { return x * x; }
//   MPROC_REGISTER_TASK(Square);  // at namespace scope in a .cc
//   ...
//   absl::StatusOr<mproc::Pool> pool = mproc::Pool::Create(ctx, {.processes =
//   2}); if (!pool.ok()) return pool.status();
//   absl::StatusOr<std::vector<int64_t>> squares = pool->Map(&Square, inputs);
//   mproc::AsyncResult<int64_t> r = pool->ApplyAsync(&Square, 7);
//   absl::StatusOr<int64_t> v = r.Get(absl::Seconds(1));
//   if (absl::Status s = pool->Close(); !s.ok()) return s;
//   if (absl::Status s = pool->Join(); !s.ok()) return s;
//
// A task is a function whose parameters have Codecs (api/codec.h) and that
// returns a `T` with a Codec, or `absl::StatusOr<T>`. A task registered with
// MPROC_REGISTER_TASK runs on every start method; any other function pointer
// runs only where workers share or copy this process's memory (posix:fork,
// thread). Arguments travel as bytes: plain data and Manager proxies, not
// shared-memory primitives or Connections (those reach a child only at its
// start).
//
// Each item's result is its own: a task that returns an error gives that
// error; one that throws gives `kUnknown` "task raised: <what()>"; a worker
// that dies (killed, crashed) while holding an item gives `kAborted` naming
// the worker, its pid and its exitcode, and the Pool starts a replacement.
// The other items go on: nothing waits for ever on a dead worker.
//
// Workers are daemon processes named `PoolWorker-N`: they end with their
// parent (kill_on_parent_death), and cannot have children, so a Pool cannot
// be created inside a worker ("daemonic processes are not allowed to have
// children").
//
// Docs: docs/design.md §12.

#ifndef MPROC_API_POOL_H_
#define MPROC_API_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/async_result.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/internal/pool_results.h"
#include "api/internal/pool_task.h"
#include "api/target.h"
#include "api/wire.h"

namespace mproc {

namespace internal {
class PoolCore;
}  // namespace internal

// How a Pool is set up. Use designated initialisers:
// `{.processes = 4, .max_tasks_per_child = 1000}`.
struct PoolOptions {
  // How many workers; std::nullopt: the CPU count (at least 1). Must be >= 1.
  std::optional<int64_t> processes;
  // Run by each worker (replacements too) before its first task, as
  // CPython's `initializer(*initargs)`: `Target(&function, args...)`, whose
  // arguments may carry Locks, Values, Queues and the other shared objects
  // (the way to give workers a Lock). It must be a registered target on
  // start methods that re-execute the program. If it fails (an error, a
  // non-zero exit code, an exception), the Pool stops: every unfinished
  // item fails with its error, named after the worker, and later calls get
  // "Pool not running". CPython instead restarts failing workers for ever.
  TargetCall initializer;
  // A worker ends after this many items and a new one replaces it; no item
  // is lost. 0: workers live as long as the Pool. Must be >= 0.
  int64_t max_tasks_per_child = 0;
};

// Pool
//
// Move-only. Every member may be called from any thread of the process that
// created the Pool; another process (a forked child) gets
// `kFailedPrecondition` "a Pool can only be used by the process that created
// it". A moved-from Pool answers every call with `kFailedPrecondition`.
class Pool {
 public:
  // Starts the workers through `ctx`. Errors: `kInvalidArgument` for
  // processes < 1, max_tasks_per_child < 0, or an initializer that is not a
  // registered target on a start method that re-executes the program; the
  // first worker's Start error, e.g.
  // `kFailedPrecondition` "daemonic processes are not allowed to have
  // children" in a daemon process (a Pool worker among them). Nothing is
  // left running after an error.
  [[nodiscard]] static absl::StatusOr<Pool> Create(const Context& ctx,
                                                   PoolOptions options = {});

  Pool(Pool&& other) noexcept;
  Pool& operator=(Pool&& other) noexcept;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // Terminate(), as CPython's `with Pool() as p:` block ends: unfinished
  // items fail with `kCancelled`, every worker is stopped and reaped.
  ~Pool();

  // Calls `function` on each of `inputs` in the workers, `chunksize` inputs
  // per message (0: CPython's choice, ceil(n / (4 * processes))), and returns
  // the results in input order. Waits for every item. Errors: the first
  // failed item's error, in input order (its message says which item);
  // `kFailedPrecondition` "Pool not running" after Close or Terminate;
  // `kInvalidArgument` for an unregistered function on a start method that
  // does not share memory.
  template <typename R, typename Param, typename Input>
  [[nodiscard]] absl::StatusOr<std::vector<internal::TaskValue<R>>> Map(
      R (*function)(Param), const std::vector<Input>& inputs,
      size_t chunksize = 0) {
    absl::StatusOr<std::shared_ptr<internal::ResultSink>> sink =
        SubmitEach(function, inputs, chunksize);
    if (!sink.ok()) return sink.status();
    return CollectAll<internal::TaskValue<R>>(**sink);
  }

  // Map for functions of several parameters: calls
  // `function(std::get<0>(t), std::get<1>(t), ...)` for each tuple `t` of
  // `inputs`. Results and errors as Map's.
  template <typename R, typename... Params, typename... Inputs>
  [[nodiscard]] absl::StatusOr<std::vector<internal::TaskValue<R>>> Starmap(
      R (*function)(Params...),
      const std::vector<std::tuple<Inputs...>>& inputs, size_t chunksize = 0) {
    internal::CheckTaskSignature<R, Params...>();
    absl::StatusOr<std::shared_ptr<internal::ResultSink>> sink =
        Submit(ReferenceTo(function), inputs.size(), chunksize,
               [&inputs](size_t i, ByteWriter& out) {
                 std::apply(
                     [&out](const Inputs&... args) {
                       internal::EncodeTaskArguments<Params...>(out, args...);
                     },
                     inputs[i]);
               });
    if (!sink.ok()) return sink.status();
    return CollectAll<internal::TaskValue<R>>(**sink);
  }

  // As Map, but returns at once: the iterator yields each item's result, in
  // input order, as it arrives (one failed item does not end it). Default
  // `chunksize` 1, as CPython's. Errors: Map's submission errors.
  template <typename R, typename Param, typename Input>
  [[nodiscard]] absl::StatusOr<ResultIterator<internal::TaskValue<R>>> Imap(
      R (*function)(Param), const std::vector<Input>& inputs,
      size_t chunksize = 1) {
    return Iterate(function, inputs, chunksize, /*ordered=*/true);
  }

  // As Imap, but yields the results in the order they complete.
  template <typename R, typename Param, typename Input>
  [[nodiscard]] absl::StatusOr<ResultIterator<internal::TaskValue<R>>>
  ImapUnordered(R (*function)(Param), const std::vector<Input>& inputs,
                size_t chunksize = 1) {
    return Iterate(function, inputs, chunksize, /*ordered=*/false);
  }

  // Calls `function(args...)` in a worker and returns at once. A submission
  // error (the Pool is not running; an unregistered function on a start
  // method that does not share memory) is the result's error.
  template <typename R, typename... Params, typename... Args>
  [[nodiscard]] AsyncResult<internal::TaskValue<R>> ApplyAsync(
      R (*function)(Params...), const Args&... args) {
    internal::CheckTaskSignature<R, Params...>();
    absl::StatusOr<std::shared_ptr<internal::ResultSink>> sink =
        Submit(ReferenceTo(function), 1, 1, [&](size_t, ByteWriter& out) {
          internal::EncodeTaskArguments<Params...>(out, args...);
        });
    if (!sink.ok())
      return AsyncResult<internal::TaskValue<R>>(Failed(sink.status()));
    return AsyncResult<internal::TaskValue<R>>(*std::move(sink));
  }

  // Refuses new work; queued items still run, then the workers end. OK when
  // already closed or terminated.
  [[nodiscard]] absl::Status Close();

  // Waits up to `timeout` until every worker has ended (after Close: once the
  // queued items are done). Errors: `kFailedPrecondition` "Pool is still
  // running" before Close or Terminate; `kDeadlineExceeded` when the timeout
  // passes first (call again, or Terminate).
  [[nodiscard]] absl::Status Join(
      absl::Duration timeout = absl::InfiniteDuration());

  // Fails every unfinished item with `kCancelled`, stops every worker
  // (terminate, then kill after 1 s) and reaps it; returns once they have
  // ended. OK when already terminated or joined.
  [[nodiscard]] absl::Status Terminate();

  // The workers running now (name, pid).
  std::vector<ProcessInfo> Workers() const;

  // Kills the worker with pid `pid`, as Process::Kill. For tests of worker
  // death on every backend. `kNotFound` when no worker has that pid.
  [[nodiscard]] absl::Status KillWorkerForTest(int64_t pid);

 private:
  explicit Pool(std::unique_ptr<internal::PoolCore> core);

  template <typename R, typename... Params>
  absl::StatusOr<internal::TaskReference> ReferenceTo(
      R (*function)(Params...)) const {
    if (core_ == nullptr) return MovedFrom();
    return internal::ReferenceTo(function, context());
  }

  const Context& context() const;
  static absl::Status MovedFrom();
  static std::shared_ptr<internal::ResultSink> Failed(
      const absl::Status& error);

  // Queues `count` items in chunks of `chunksize` (0: CPython's choice),
  // `encode_item(i, out)` appending item i's argument tuple to `out`, and
  // returns where their results will be (remembering the order they
  // complete in when `completion_order`).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<internal::ResultSink>> Submit(
      const absl::StatusOr<internal::TaskReference>& function, size_t count,
      size_t chunksize,
      absl::FunctionRef<void(size_t, ByteWriter&)> encode_item,
      bool completion_order = false);

  // Submit for a one-parameter function called on each of `inputs`.
  template <typename R, typename Param, typename Input>
  absl::StatusOr<std::shared_ptr<internal::ResultSink>> SubmitEach(
      R (*function)(Param), const std::vector<Input>& inputs, size_t chunksize,
      bool completion_order = false) {
    internal::CheckTaskSignature<R, Param>();
    return Submit(
        ReferenceTo(function), inputs.size(), chunksize,
        [&inputs](size_t i, ByteWriter& out) {
          internal::EncodeTaskArguments<Param>(out, inputs[i]);
        },
        completion_order);
  }

  template <typename R, typename Param, typename Input>
  absl::StatusOr<ResultIterator<internal::TaskValue<R>>> Iterate(
      R (*function)(Param), const std::vector<Input>& inputs, size_t chunksize,
      bool ordered) {
    absl::StatusOr<std::shared_ptr<internal::ResultSink>> sink =
        SubmitEach(function, inputs, chunksize, /*completion_order=*/!ordered);
    if (!sink.ok()) return sink.status();
    return ResultIterator<internal::TaskValue<R>>(*std::move(sink), ordered);
  }

  // Waits for every item of `sink` and decodes them; the first error wins.
  template <typename T>
  static absl::StatusOr<std::vector<T>> CollectAll(
      const internal::ResultSink& sink) {
    sink.WaitAll(absl::InfiniteFuture());
    std::vector<T> values;
    values.reserve(sink.size());
    for (size_t i = 0; i < sink.size(); ++i) {
      absl::StatusOr<T> value = internal::DecodeItem<T>(sink.item(i), i);
      if (!value.ok()) return value.status();
      values.push_back(*std::move(value));
    }
    return values;
  }

  std::unique_ptr<internal::PoolCore> core_;
};

}  // namespace mproc

// MPROC_REGISTER_TASK(function)
//
// Registers `function` as a Pool task under its own spelling, so that
// workers of every start method can call it. Use at namespace scope in a .cc
// file that is linked whole into the program (an OBJECT library or the
// executable itself). Names are program-wide and the spelling is the name:
// two different functions registered as `Square` (in two namespaces, say)
// stop the program at start with a message; give one of them another name
// with MPROC_REGISTER_TASK_AS.
#define MPROC_REGISTER_TASK(function) \
  MPROC_REGISTER_TASK_AS(#function, &function)

// MPROC_REGISTER_TASK_AS(name, function_pointer)
//
// Registers `function_pointer` as task `name` (for overloads or renames).
#define MPROC_REGISTER_TASK_AS(name, function_pointer)      \
  [[maybe_unused]] static const bool MPROC_INTERNAL_CONCAT( \
      mproc_task_registered_, __LINE__) =                   \
      ::mproc::internal::RegisterTask((name), (function_pointer))

#endif  // MPROC_API_POOL_H_
