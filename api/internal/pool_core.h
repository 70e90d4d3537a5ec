// -----------------------------------------------------------------------------
// File: api/internal/pool_core.h
// -----------------------------------------------------------------------------
//
// Internal: a Pool's workers and its dispatcher thread (docs/design.md §12).
// Works on encoded frames and ResultSinks only; api/pool.h adds the types.
//
// The dispatcher owns the workers: it starts them (daemon, one duplex Pipe
// each), hands batches out round robin, one ahead of each busy worker (more
// while its batches are short), files the results, and on a worker's end
// fails the batch it was running with `kAborted` (naming the worker and its
// exitcode), queues the batches it had not started again, and starts a
// replacement. It waits with mproc::Wait over a wake Pipe, the workers'
// Connections and their Processes, so it never polls.

#ifndef MPROC_API_INTERNAL_POOL_CORE_H_
#define MPROC_API_INTERNAL_POOL_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/internal/pool_protocol.h"
#include "api/internal/pool_results.h"
#include "api/internal/pool_worker.h"
#include "api/pipe.h"
#include "api/process.h"

namespace mproc::internal {

class ProcessState;

// Items [first, first + count) of `sink`, as one task frame.
struct PoolBatch {
  uint64_t id = 0;    // NextBatchId()
  std::string frame;  // a TaskFrameWriter's, for batch `id`
  std::shared_ptr<ResultSink> sink;
  size_t first = 0;
  size_t count = 0;
};

class PoolCore {
 public:
  // Starts `processes` (>= 1) workers through `ctx` and the dispatcher;
  // each worker runs `initializer` (if not empty) before its first task.
  // `max_tasks_per_child` 0: workers live as long as the pool. Errors: the
  // first worker's Start error (the daemon rule among them); nothing is left
  // running then.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PoolCore>> Start(
      const Context& ctx, int64_t processes, int64_t max_tasks_per_child,
      TargetCall initializer);

  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;
  // Terminates, unless Join or Terminate already ended the pool.
  ~PoolCore();

  const Context& context() const { return ctx_; }
  int64_t processes() const { return processes_; }

  // A batch id for EncodeTaskFrame, unique in this pool.
  uint64_t NextBatchId();

  // Queues `batches` in order. `kFailedPrecondition` once closed or
  // terminated, or in a process other than the creator; the initializer's
  // error once a failed initializer stopped the pool.
  [[nodiscard]] absl::Status Submit(std::vector<PoolBatch> batches);

  [[nodiscard]] absl::Status Close();
  [[nodiscard]] absl::Status Join(absl::Duration timeout);
  [[nodiscard]] absl::Status Terminate();

  // The workers running now.
  std::vector<ProcessInfo> Workers() const;
  // Kills the worker whose pid is `pid` (`kNotFound` if none is).
  [[nodiscard]] absl::Status KillWorker(int64_t pid);

 private:
  enum class State { kRunning, kClosed, kTerminated };

  // One worker place; only the dispatcher changes it (under slots_mu_ where
  // Workers and KillWorker read it).
  struct Slot {
    std::optional<Process> process;  // std::nullopt: no worker here
    std::optional<Connection> connection;
    std::string name;
    int64_t pid = 0;
    // Sent and not answered yet, in the order sent (frames kept, to be
    // sent again if the worker dies first): the worker answers in that
    // order, so the front is the one it is running.
    std::deque<PoolBatch> held;
    // When the front of `held` started (as far as the dispatcher can tell:
    // when it was sent to an idle worker, or when the batch before it was
    // answered), and a running average of how long a batch takes this
    // worker (zero: none answered yet).
    absl::Time front_since;
    absl::Duration batch_time;
    int64_t items_done = 0;
    bool stop_sent = false;      // or a send failed: send it nothing more
    bool end_of_stream = false;  // the worker closed its end: it is ending
  };

  PoolCore(const Context& ctx, int64_t processes, int64_t max_tasks,
           TargetCall initializer, Connection wake_sender,
           Connection wake_receiver);

  absl::Status CheckOwner() const;
  void Wake();
  void Dispatch();
  // One turn of the loop: false when the pool is done.
  bool Turn();
  absl::Status StartWorker(Slot& slot);
  void StartMissingWorkers();
  void Assign();
  // A result frame received, not decoded yet.
  struct Answer {
    PoolBatch batch;
    std::string bytes;
    std::string worker;  // its name, for errors
  };
  // Receives what `slot`'s worker sent (without waiting): each answers the
  // front batch it holds, which moves to `answers`; a failed initializer's
  // report sets fatal_error_.
  void ReadResults(Slot& slot, std::vector<Answer>& answers);
  // Decodes `answers` and files their results (or a malformed-result
  // error) in their sinks; leaves `answers` empty.
  void File(std::vector<Answer>& answers);
  // Sets fatal_error_ from `slot`'s report that its initializer failed.
  void NoteInitializerFailure(const Slot& slot, const ResultFrame& frame);
  void HandleEnd(Slot& slot);
  // Whether `slot`'s worker may be sent a frame of `frame_bytes` now.
  bool WantsMore(const Slot& slot, size_t frame_bytes) const;
  // Fails every unfinished item with `error`, stops (unless not
  // `stop_workers`) and forgets every worker, and marks the pool done.
  void Shutdown(const absl::Status& error, bool stop_workers = true);

  const Context ctx_;
  const int64_t processes_;
  const int64_t max_tasks_;
  const WorkerInitializer initializer_;
  const int64_t owner_pid_;
  ProcessState* const owner_state_;
  const Connection wake_sender_;
  const Connection wake_receiver_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<uint64_t> next_batch_{1};

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kRunning;
  std::deque<PoolBatch> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // Why the pool stopped, when a failed initializer stopped it: what Submit
  // answers after that, instead of "Pool not running".
  absl::Status stopped_by_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex slots_mu_;
  std::vector<Slot> slots_;  // size processes_; see Slot
  int64_t next_worker_number_ = 1;
  absl::Status last_start_error_;
  // Set when a worker's initializer failed: the pool then ends with it.
  absl::Status fatal_error_;

  absl::Mutex join_mu_;
  std::thread dispatcher_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_CORE_H_
