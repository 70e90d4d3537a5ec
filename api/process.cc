#include "api/process.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/fork_safety.h"
#include "api/internal/lifecycle.h"
#include "api/internal/process_record.h"
#include "api/internal/process_state.h"

namespace mproc {

using internal::Phase;
using internal::ProcessRecord;

namespace internal {

absl::StatusOr<std::optional<ExitStatus>> PollChild(ProcessRecord& record,
                                                    absl::Time deadline) {
  std::shared_ptr<Child> child;
  {
    absl::MutexLock lock(&record.mu);
    if (record.exit.has_value()) return record.exit;
    if (record.child == nullptr) return std::optional<ExitStatus>();
    child = record.child;
  }
  absl::StatusOr<std::optional<ExitStatus>> result = child->Wait(deadline);
  if (result.ok() && result->has_value()) {
    absl::MutexLock lock(&record.mu);
    record.exit = *result;
  }
  return result;
}

namespace {

// Terminates (or kills) each record's child that has not ended.
absl::Status SignalAll(
    const std::vector<std::shared_ptr<ProcessRecord>>& records, bool kill) {
  absl::Status first;
  for (const std::shared_ptr<ProcessRecord>& record : records) {
    std::shared_ptr<Child> child;
    {
      absl::MutexLock lock(&record->mu);
      if (record->exit.has_value() || record->child == nullptr) continue;
      child = record->child;
    }
    first.Update(kill ? child->Kill() : child->Terminate());
  }
  return first;
}

}  // namespace

absl::Status StopChildren(
    const std::vector<std::shared_ptr<ProcessRecord>>& records,
    absl::Duration grace) {
  absl::Status first = SignalAll(records, /*kill=*/false);
  const absl::Time deadline = grace == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : ForkSafeNow() + grace;
  bool running = false;
  for (const std::shared_ptr<ProcessRecord>& record : records) {
    absl::StatusOr<std::optional<ExitStatus>> exit =
        PollChild(*record, deadline);
    first.Update(exit.status());
    if (exit.ok() && !exit->has_value()) running = true;
  }
  if (!running) return first;
  first.Update(SignalAll(records, /*kill=*/true));
  for (const std::shared_ptr<ProcessRecord>& record : records) {
    first.Update(PollChild(*record, absl::InfiniteFuture()).status());
  }
  return first;
}

}  // namespace internal

namespace {

// The checks shared by Join, Terminate and Kill: started, not closed, and
// called by the parent (never by the child itself).
absl::Status CheckParentCall(ProcessRecord* record, absl::string_view verb) {
  if (record == nullptr) return internal::MovedFromError();
  absl::MutexLock lock(&record->mu);
  if (record->phase == Phase::kClosed) return internal::ClosedError();
  // As CPython: the parent check comes first (a forked child's copy of its
  // own Process object is still unstarted).
  if (record->parent_pid != internal::CurrentState().pid()) {
    return internal::NotAChildError(verb);
  }
  if (record->phase == Phase::kInitial) return internal::NotStartedError(verb);
  return absl::OkStatus();
}

absl::Status SignalChild(ProcessRecord* record, absl::string_view verb,
                         bool kill) {
  if (absl::Status s = CheckParentCall(record, verb); !s.ok()) return s;
  std::shared_ptr<Child> child;
  {
    absl::MutexLock lock(&record->mu);
    if (record->exit.has_value()) return absl::OkStatus();
    child = record->child;
  }
  return kill ? child->Kill() : child->Terminate();
}

}  // namespace

Process::Process(std::shared_ptr<ProcessRecord> record)
    : record_(std::move(record)) {}
Process::Process(Process&& other) noexcept = default;
Process& Process::operator=(Process&& other) noexcept = default;
Process::~Process() = default;

absl::Status Process::Start() {
  if (record_ == nullptr) return internal::MovedFromError();
  internal::ProcessState& self = internal::CurrentState();
  LaunchRequest request;
  {
    absl::MutexLock lock(&record_->mu);
    if (record_->phase == Phase::kClosed) return internal::ClosedError();
    if (record_->phase != Phase::kInitial) return internal::StartedTwiceError();
    if (!record_->deferred_error.ok()) return record_->deferred_error;
    if (record_->parent_pid != self.pid()) return internal::NotCreatorError();
    if (self.daemon()) return internal::DaemonChildError();
    if (record_->target.empty()) return internal::EmptyTargetError();
    if (!record_->start_method.runs_closures && !record_->target.registered()) {
      return internal::ClosureNotAllowedError(absl::StrCat(
          record_->backend->name(), ":", record_->start_method.name));
    }
    request.child.name = record_->name;
    request.child.identity = record_->identity;
    request.child.daemon = record_->daemon;
    request.child.kill_on_parent_death =
        record_->kill_on_parent_death.value_or(record_->daemon);
    request.start_method = record_->start_method.name;
    request.target = record_->target;
    request.listener = record_->listener;
    request.handovers = record_->target.handovers();
  }
  request.child.parent_pid = self.pid();
  request.child.parent_name = self.info().name;

  self.ReapChildren();
  // The child must see every write this process made before Start.
  if (absl::Status synced = self.SyncConnections(); !synced.ok()) {
    return synced;
  }

  absl::StatusOr<std::unique_ptr<Child>> child =
      record_->backend->Launch(request);
  if (!child.ok()) return child.status();
  {
    absl::MutexLock lock(&record_->mu);
    record_->pid = (*child)->pid();
    record_->child = std::shared_ptr<Child>(*std::move(child));
    record_->phase = Phase::kStarted;
    // The child has its own copies; drop ours.
    record_->target = TargetCall();
    record_->listener.reset();
  }
  self.AddChild(record_);
  if (self.parent() == std::nullopt) internal::EnsureExitRulesAtExit();
  return absl::OkStatus();
}

absl::Status Process::Join(absl::Duration timeout) {
  if (absl::Status s = CheckParentCall(record_.get(), "join"); !s.ok())
    return s;
  if (timeout < absl::ZeroDuration()) {
    return internal::NegativeTimeoutError("join");
  }
  const absl::Time deadline = timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : ForkSafeNow() + timeout;
  absl::StatusOr<std::optional<ExitStatus>> exit =
      internal::PollChild(*record_, deadline);
  if (!exit.ok()) return exit.status();
  if (exit->has_value()) internal::CurrentState().RemoveChild(record_.get());
  return absl::OkStatus();
}

absl::Status Process::Terminate() {
  return SignalChild(record_.get(), "terminate", /*kill=*/false);
}

absl::Status Process::Kill() {
  return SignalChild(record_.get(), "kill", /*kill=*/true);
}

absl::Status Process::Stop(absl::Duration grace) {
  if (absl::Status s = CheckParentCall(record_.get(), "stop"); !s.ok()) {
    return s;
  }
  if (grace < absl::ZeroDuration()) {
    return internal::NegativeGraceError();
  }
  absl::Status stopped = internal::StopChildren({record_}, grace);
  {
    absl::MutexLock lock(&record_->mu);
    if (!record_->exit.has_value()) return stopped;
  }
  internal::CurrentState().RemoveChild(record_.get());
  return stopped;
}

absl::Status Process::Close() {
  if (record_ == nullptr) return internal::MovedFromError();
  {
    absl::MutexLock lock(&record_->mu);
    if (record_->phase == Phase::kClosed) return absl::OkStatus();
  }
  absl::StatusOr<std::optional<ExitStatus>> exit =
      internal::PollChild(*record_, absl::InfinitePast());
  if (!exit.ok()) return exit.status();
  {
    absl::MutexLock lock(&record_->mu);
    if (record_->phase == Phase::kStarted && !record_->exit.has_value()) {
      return internal::CloseRunningError();
    }
    record_->phase = Phase::kClosed;
    record_->child.reset();
    record_->target = TargetCall();
  }
  internal::CurrentState().RemoveChild(record_.get());
  return absl::OkStatus();
}

bool Process::IsAlive() const {
  if (record_ == nullptr) return false;
  {
    absl::MutexLock lock(&record_->mu);
    if (record_->phase != Phase::kStarted || record_->exit.has_value()) {
      return false;
    }
    if (record_->parent_pid != internal::CurrentState().pid()) return false;
  }
  absl::StatusOr<std::optional<ExitStatus>> exit =
      internal::PollChild(*record_, absl::InfinitePast());
  return exit.ok() && !exit->has_value();
}

std::optional<int> Process::exitcode() const {
  if (record_ == nullptr) return std::nullopt;
  if (IsAlive()) return std::nullopt;
  absl::MutexLock lock(&record_->mu);
  if (!record_->exit.has_value()) return std::nullopt;
  return record_->exit->exitcode();
}

std::optional<int64_t> Process::pid() const {
  if (record_ == nullptr) return std::nullopt;
  absl::MutexLock lock(&record_->mu);
  return record_->pid;
}

std::string Process::name() const {
  if (record_ == nullptr) return "";
  absl::MutexLock lock(&record_->mu);
  return record_->name;
}

absl::Status Process::set_name(absl::string_view name) {
  if (record_ == nullptr) return internal::MovedFromError();
  if (absl::Status s = internal::ValidateName(name); !s.ok()) return s;
  absl::MutexLock lock(&record_->mu);
  record_->name = std::string(name);
  return absl::OkStatus();
}

bool Process::daemon() const {
  if (record_ == nullptr) return false;
  absl::MutexLock lock(&record_->mu);
  return record_->daemon;
}

absl::Status Process::set_daemon(bool daemon) {
  if (record_ == nullptr) return internal::MovedFromError();
  absl::MutexLock lock(&record_->mu);
  if (record_->phase == Phase::kClosed) return internal::ClosedError();
  if (record_->phase != Phase::kInitial) return internal::AlreadyStartedError();
  record_->daemon = daemon;
  return absl::OkStatus();
}

std::string Process::ToString() const {
  if (record_ == nullptr) return "<Process moved-from>";
  internal::ReprFields fields;
  absl::MutexLock lock(&record_->mu);
  fields.name = record_->name;
  fields.pid = record_->pid;
  fields.parent_pid = record_->parent_pid;
  fields.daemon = record_->daemon;
  if (record_->phase == Phase::kClosed) {
    fields.state = internal::ReprState::kClosed;
  } else if (record_->parent_pid != internal::CurrentState().pid()) {
    fields.state = internal::ReprState::kUnknown;
  } else if (record_->phase == Phase::kInitial) {
    fields.state = internal::ReprState::kInitial;
  } else if (!record_->exit.has_value()) {
    fields.state = internal::ReprState::kStarted;
  } else {
    fields.state = internal::ReprState::kStopped;
    fields.exitcode = record_->exit->exitcode();
  }
  return internal::FormatRepr(fields);
}

}  // namespace mproc
