#include "api/internal/pool_core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/backend.h"
#include "api/cancellation.h"
#include "api/exit_status.h"
#include "api/internal/pool_worker.h"
#include "api/internal/process_state.h"
#include "api/wait.h"

namespace mproc::internal {
namespace {

// How long Terminate lets a worker end after its terminate request, before
// it kills it.
constexpr absl::Duration kStopGrace = absl::Seconds(1);

// How far ahead of a busy worker the dispatcher may send. One batch always
// (double buffering): a worker that finishes a batch starts the next at
// once, without waiting for the dispatcher to be scheduled, which on a
// machine whose CPUs the workers keep busy can take milliseconds (16
// CPU-bound items on two workers ran 1.80x faster than serially with one
// batch per worker, 1.93x with one ahead). More only while batches are
// short (single ApplyAsync tasks), where a round trip per batch is the whole
// cost: what a busy worker holds must take it at most kAheadTime by its
// running average per batch. Long batches are not sent further ahead,
// because a batch sent to one worker can no longer go to another that
// falls idle first.
//
// And the frames sent ahead, with a generous allowance for the OS's
// accounting per message, must fit in kAheadBytes: the sends are blocking,
// and a busy worker may be blocked sending its result to the dispatcher, so
// what is sent ahead of it must fit in the channel's buffer (64 KiB for a
// Windows pipe, more on Linux) or both would wait for each other. An idle
// worker reads whatever it is sent, so a first batch of any size is safe.
// Batches a dead worker had not started are queued again.
constexpr absl::Duration kAheadTime = absl::Microseconds(500);
constexpr size_t kAheadBytes = 32 * 1024;
constexpr size_t kMessageOverhead = 1024;

absl::Status NotRunning() {
  return absl::FailedPreconditionError(
      "Pool not running: it was closed or terminated; create a new Pool to "
      "submit more work");
}

}  // namespace

absl::StatusOr<std::unique_ptr<PoolCore>> PoolCore::Start(
    const Context& ctx, int64_t processes, int64_t max_tasks_per_child,
    TargetCall initializer) {
  absl::StatusOr<std::pair<Connection, Connection>> wake = ctx.Pipe();
  if (!wake.ok()) return wake.status();
  std::unique_ptr<PoolCore> core(
      new PoolCore(ctx, processes, max_tasks_per_child, std::move(initializer),
                   wake->first, wake->second));
  // The first worker's Start error is the Pool's: a daemon cannot have
  // children, a closure-only start method, an OS refusal.
  for (Slot& slot : core->slots_) {
    if (absl::Status started = core->StartWorker(slot); !started.ok()) {
      core->Shutdown(started);
      return started;
    }
  }
  absl::MutexLock lock(&core->join_mu_);
  core->dispatcher_ = std::thread([raw = core.get()] { raw->Dispatch(); });
  return core;
}

PoolCore::PoolCore(const Context& ctx, int64_t processes, int64_t max_tasks,
                   TargetCall initializer, Connection wake_sender,
                   Connection wake_receiver)
    : ctx_(ctx),
      processes_(processes),
      max_tasks_(max_tasks),
      initializer_{.call = std::move(initializer)},
      owner_pid_(CurrentProcess().pid),
      owner_state_(&CurrentState()),
      wake_sender_(std::move(wake_sender)),
      wake_receiver_(std::move(wake_receiver)),
      slots_(static_cast<size_t>(processes)) {}

PoolCore::~PoolCore() {
  if (CurrentProcess().pid != owner_pid_) return;  // a forked copy
  (void)Terminate();
}

absl::Status PoolCore::CheckOwner() const {
  if (CurrentProcess().pid == owner_pid_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "a Pool can only be used by the process that created it; create a Pool "
      "in this process");
}

uint64_t PoolCore::NextBatchId() {
  return next_batch_.fetch_add(1, std::memory_order_relaxed);
}

void PoolCore::Wake() {
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    // Fails only once the dispatcher has gone, when nobody needs waking.
    (void)wake_sender_.SendBytes("w");
  }
}

absl::Status PoolCore::Submit(std::vector<PoolBatch> batches) {
  if (absl::Status owner = CheckOwner(); !owner.ok()) return owner;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRunning) {
      return stopped_by_.ok() ? NotRunning() : stopped_by_;
    }
    for (PoolBatch& batch : batches) queue_.push_back(std::move(batch));
  }
  Wake();
  return absl::OkStatus();
}

absl::Status PoolCore::Close() {
  if (absl::Status owner = CheckOwner(); !owner.ok()) return owner;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRunning) state_ = State::kClosed;
  }
  Wake();
  return absl::OkStatus();
}

absl::Status PoolCore::Join(absl::Duration timeout) {
  if (absl::Status owner = CheckOwner(); !owner.ok()) return owner;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRunning) {
      return absl::FailedPreconditionError(
          "Pool is still running; call Close() or Terminate() before Join()");
    }
    auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return done_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("the Pool's workers had not all ended after ",
                       absl::FormatDuration(timeout),
                       "; wait longer, or call Terminate() to end them"));
    }
  }
  absl::MutexLock lock(&join_mu_);
  if (dispatcher_.joinable()) dispatcher_.join();
  return absl::OkStatus();
}

absl::Status PoolCore::Terminate() {
  if (absl::Status owner = CheckOwner(); !owner.ok()) return owner;
  {
    absl::MutexLock lock(&mu_);
    if (!done_) state_ = State::kTerminated;
  }
  Wake();
  return Join(absl::InfiniteDuration());
}

std::vector<ProcessInfo> PoolCore::Workers() const {
  absl::MutexLock lock(&slots_mu_);
  std::vector<ProcessInfo> workers;
  for (const Slot& slot : slots_) {
    if (!slot.process.has_value()) continue;
    workers.push_back({.name = slot.name, .pid = slot.pid, .daemon = true});
  }
  return workers;
}

absl::Status PoolCore::KillWorker(int64_t pid) {
  if (absl::Status owner = CheckOwner(); !owner.ok()) return owner;
  absl::MutexLock lock(&slots_mu_);
  for (Slot& slot : slots_) {
    if (slot.process.has_value() && slot.pid == pid) {
      return slot.process->Kill();
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no worker of this Pool has pid ", pid,
                   "; Workers() lists those running now"));
}

absl::Status PoolCore::StartWorker(Slot& slot) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = ctx_.Pipe();
  if (!pipe.ok()) return pipe.status();
  auto& [mine, theirs] = *pipe;
  const std::string name = absl::StrCat("PoolWorker-", next_worker_number_++);
  Process process =
      ctx_.NewProcess(Target(&RunPoolWorker, initializer_, theirs, max_tasks_,
                             ctx_.start_method().runs_closures),
                      {.name = name, .daemon = true});
  absl::Status started = process.Start();
  theirs.Close();  // the worker holds it now
  if (!started.ok()) {
    mine.Close();
    return started;
  }
  absl::MutexLock lock(&slots_mu_);
  slot = Slot{};
  slot.pid = process.pid().value_or(0);
  slot.name = name;
  slot.process.emplace(std::move(process));
  slot.connection.emplace(std::move(mine));
  return absl::OkStatus();
}

bool PoolCore::WantsMore(const Slot& slot, size_t frame_bytes) const {
  if (!slot.process.has_value() || slot.stop_sent || slot.end_of_stream) {
    return false;
  }
  // A worker ends after max_tasks_ items: send it nothing it would not run.
  if (max_tasks_ > 0) {
    int64_t promised = slot.items_done;
    for (const PoolBatch& held : slot.held) {
      promised += static_cast<int64_t>(held.count);
    }
    if (promised >= max_tasks_) return false;
  }
  if (slot.held.empty()) return true;
  if (slot.held.size() >= 2 &&
      (slot.batch_time == absl::ZeroDuration() ||
       slot.batch_time * static_cast<int64_t>(slot.held.size()) > kAheadTime)) {
    return false;
  }
  // The worker has read (or will read without help) the front's frame;
  // the others wait in the channel with the new one.
  size_t ahead = frame_bytes + kMessageOverhead;
  for (size_t i = 1; i < slot.held.size(); ++i) {
    ahead += slot.held[i].frame.size() + kMessageOverhead;
  }
  return ahead <= kAheadBytes;
}

void PoolCore::StartMissingWorkers() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kTerminated) return;
    if (state_ == State::kClosed && queue_.empty()) return;
  }
  bool any_alive = false;
  for (Slot& slot : slots_) {
    if (!slot.process.has_value()) {
      if (absl::Status s = StartWorker(slot); !s.ok()) last_start_error_ = s;
    }
    any_alive = any_alive || slot.process.has_value();
  }
  if (any_alive) return;
  // No worker and none can start: what waits would wait for ever.
  std::deque<PoolBatch> failed;
  {
    absl::MutexLock lock(&mu_);
    failed.swap(queue_);
  }
  for (PoolBatch& batch : failed) {
    batch.sink->Fail(
        batch.first, batch.count,
        absl::Status(last_start_error_.code(),
                     absl::StrCat("the Pool could not start a worker: ",
                                  last_start_error_.message())));
  }
}

void PoolCore::Assign() {
  // Round robin, one batch per worker per pass, so that the first worker
  // does not take every batch of a Map.
  for (bool sent = true; sent;) {
    sent = false;
    for (Slot& slot : slots_) {
      std::optional<PoolBatch> batch;
      bool stop = false;
      {
        absl::MutexLock lock(&mu_);
        if (!queue_.empty()) {
          if (!WantsMore(slot, queue_.front().frame.size())) continue;
          batch.emplace(std::move(queue_.front()));
          queue_.pop_front();
        } else {
          stop = state_ == State::kClosed && slot.held.empty() &&
                 WantsMore(slot, 0);
        }
      }
      if (stop) {
        slot.stop_sent = true;
        (void)slot.connection->SendBytes(EncodeStopFrame());  // gone: ended
        continue;
      }
      if (!batch.has_value()) continue;  // nothing for this one
      if (slot.connection->SendBytes(batch->frame).ok()) {
        if (slot.held.empty()) slot.front_since = absl::Now();
        slot.held.push_back(*std::move(batch));
        sent = true;
        continue;
      }
      // The worker has gone: the batch never reached it. Put it back first,
      // and send it nothing more; what it sent before it went (a failed
      // initializer's report) is still read, until its end of stream.
      slot.stop_sent = true;
      absl::MutexLock lock(&mu_);
      queue_.push_front(*std::move(batch));
    }
  }
}

void PoolCore::ReadResults(Slot& slot, std::vector<Answer>& answers) {
  while (!slot.end_of_stream) {
    absl::StatusOr<std::string> bytes =
        slot.connection->RecvBytes(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(bytes.status())) return;
    if (!bytes.ok()) {
      slot.end_of_stream = true;  // the worker is ending; HandleEnd follows
      return;
    }
    if (ResultFrameBatch(*bytes).value_or(1) == kInitializerFailedBatch) {
      absl::StatusOr<ResultFrame> frame = DecodeResultFrame(*bytes);
      NoteInitializerFailure(slot, frame.ok() ? *frame : ResultFrame{});
      return;  // the worker ends; Turn ends the pool
    }
    if (slot.held.empty()) continue;  // nothing expected: ignore
    answers.push_back({.batch = std::move(slot.held.front()),
                       .bytes = *std::move(bytes),
                       .worker = slot.name});
    const PoolBatch& done = answers.back().batch;
    slot.items_done += static_cast<int64_t>(done.count);
    slot.held.pop_front();
    const absl::Time now = absl::Now();
    const absl::Duration took = now - slot.front_since;
    slot.batch_time = slot.batch_time == absl::ZeroDuration()
                          ? took
                          : (3 * slot.batch_time + took) / 4;
    slot.front_since = now;
  }
}

void PoolCore::File(std::vector<Answer>& answers) {
  for (Answer& answer : answers) {
    const PoolBatch& batch = answer.batch;
    // Decoded where the sink keeps it: the values stay views into it.
    absl::StatusOr<ResultFrame> frame =
        DecodeResultFrame(batch.sink->Keep(std::move(answer.bytes)));
    if (frame.ok() && frame->batch == batch.id &&
        frame->items.size() == batch.count) {
      batch.sink->FillFrom(batch.first, frame->items);
      continue;
    }
    batch.sink->Fail(
        batch.first, batch.count,
        absl::InternalError(absl::StrCat(
            "pool worker ", answer.worker, " sent a malformed result: ",
            frame.ok() ? "not the batch it was sent"
                       : frame.status().message())));
  }
  answers.clear();
}

void PoolCore::NoteInitializerFailure(const Slot& slot,
                                      const ResultFrame& frame) {
  const absl::Status error =
      frame.items.size() == 1 && !frame.items[0].ok()
          ? frame.items[0].status()
          : absl::InternalError("malformed initializer report");
  fatal_error_ = absl::Status(
      error.code(),
      absl::StrCat("the Pool's initializer failed in ", slot.name, ": ",
                   error.message(),
                   "; the Pool stopped: fix the initializer and create a new "
                   "Pool"));
}

void PoolCore::HandleEnd(Slot& slot) {
  std::vector<Answer> answers;
  ReadResults(slot, answers);  // what it sent before it ended
  File(answers);
  (void)slot.process->Join();  // it has ended: at once
  const int code = slot.process->exitcode().value_or(0);
  if (!fatal_error_.ok()) {
    for (PoolBatch& held : slot.held) {
      held.sink->Fail(held.first, held.count, fatal_error_);
    }
    slot.held.clear();
  }
  if (!slot.held.empty()) {
    // The worker answered in order: the front is the one it was running;
    // the others it never started, so they go back to the queue's front.
    absl::MutexLock lock(&mu_);
    while (slot.held.size() > 1) {
      queue_.push_front(std::move(slot.held.back()));
      slot.held.pop_back();
    }
  }
  if (!slot.held.empty()) {
    std::string exitcode = absl::StrCat(code);
    if (code < 0) {
      absl::StrAppend(&exitcode, " (",
                      ExitCodeToString(code, ctx_.backend().SignalName(-code)),
                      ")");
    }
    PoolBatch& running = slot.held.front();
    running.sink->Fail(
        running.first, running.count,
        absl::AbortedError(absl::StrCat(
            "pool worker ", slot.name, " (pid ", slot.pid,
            ") died with exitcode ", exitcode,
            " while holding this task; the Pool started a replacement, "
            "submit the task again if it is safe to repeat")));
  }
  slot.connection->Close();
  (void)slot.process->Close();
  absl::MutexLock lock(&slots_mu_);
  slot = Slot{};
}

bool PoolCore::Turn() {
  if (!fatal_error_.ok()) return false;
  StartMissingWorkers();
  Assign();
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kTerminated) return false;
    if (state_ == State::kClosed && queue_.empty()) {
      bool any = false;
      for (const Slot& slot : slots_) any = any || slot.process.has_value();
      if (!any) return false;
    }
  }
  std::vector<WaitObject> objects{wake_receiver_};
  std::vector<Slot*> owners{nullptr};
  for (Slot& slot : slots_) {
    if (!slot.process.has_value()) continue;
    if (!slot.end_of_stream) {
      objects.emplace_back(*slot.connection);
      owners.push_back(&slot);
    }
    objects.emplace_back(*slot.process);
    owners.push_back(&slot);
  }
  absl::StatusOr<std::vector<size_t>> ready = Wait(objects);
  std::vector<Answer> answers;
  if (!ready.ok()) {
    Shutdown(absl::Status(ready.status().code(),
                          absl::StrCat("the Pool's dispatcher failed: ",
                                       ready.status().message())));
    return false;
  }
  for (size_t i : *ready) {
    if (owners[i] == nullptr) {
      // Drain first, then clear (an exchange, to acquire what the wakers
      // released): a Wake that found the flag set made its change before
      // this clear, so the next Turn sees it; one that finds it clear sends
      // a byte this drain has not taken. Clearing before draining could
      // swallow a byte whose flag stays set, and then no Wake sends again.
      while (wake_receiver_.Poll().value_or(false)) {
        (void)wake_receiver_.RecvBytes(absl::ZeroDuration());
      }
      (void)wake_pending_.exchange(false, std::memory_order_acq_rel);
    } else if (objects[i].process() != nullptr) {
      HandleEnd(*owners[i]);
    } else if (owners[i]->process.has_value()) {
      ReadResults(*owners[i], answers);
    }
  }
  // Workers that answered get their next batches before the results are
  // decoded and filed, so that they do not wait for that.
  if (fatal_error_.ok()) Assign();
  File(answers);
  return true;
}

void PoolCore::Dispatch() {
  InstallState(owner_state_, /*owns_process=*/false);
  try {
    while (Turn()) {
    }
    if (!fatal_error_.ok()) {
      absl::MutexLock lock(&mu_);
      stopped_by_ = fatal_error_;
    }
    Shutdown(fatal_error_.ok()
                 ? absl::CancelledError(
                       "the Pool was terminated before this task finished")
                 : fatal_error_);
  } catch (const ProcessCancelled&) {
    // The pool's process is being cancelled (thread backend): every wait
    // would throw again, and its exit rules stop the workers. Fail what
    // waits, and leave the workers to them.
    Shutdown(absl::CancelledError(
                 "the Pool's process was terminated before this task finished"),
             /*stop_workers=*/false);
  }
  InstallState(nullptr, /*owns_process=*/false);
}

void PoolCore::Shutdown(const absl::Status& error, bool stop_workers) {
  std::deque<PoolBatch> queued;
  {
    absl::MutexLock lock(&mu_);
    state_ = State::kTerminated;
    queued.swap(queue_);
  }
  for (PoolBatch& batch : queued) {
    batch.sink->Fail(batch.first, batch.count, error);
  }
  for (Slot& slot : slots_) {
    if (!slot.process.has_value()) continue;
    for (PoolBatch& held : slot.held) {
      held.sink->Fail(held.first, held.count, error);
    }
    if (stop_workers) {
      if (absl::Status s = slot.process->Stop(kStopGrace); !s.ok()) {
        WriteStderr(absl::StrCat("mproc: stopping pool worker ", slot.name,
                                 ": ", s.ToString(), "\n"));
      }
      (void)slot.process->Close();
    }
    slot.connection->Close();
    absl::MutexLock lock(&slots_mu_);
    slot = Slot{};
  }
  wake_receiver_.Close();
  wake_sender_.Close();
  absl::MutexLock lock(&mu_);
  done_ = true;
}

}  // namespace mproc::internal
