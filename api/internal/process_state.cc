#include "api/internal/process_state.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/internal/fork_locks.h"
#include "api/internal/manager_client.h"
#include "api/internal/process_record.h"

namespace mproc::internal {
namespace {

thread_local ProcessState* current_thread_state = nullptr;

// Lock-free, so a child forked while another thread creates it cannot
// inherit a held lock.
std::atomic<ProcessState*> process_wide_state{nullptr};

std::atomic<int64_t> exit_grace_nanos{
    absl::ToInt64Nanoseconds(kDefaultExitGrace)};

int64_t MainPid() {
  std::vector<Backend*> backends = RegisteredBackends();
  return backends.empty() ? 0 : backends.front()->HostPid();
}

void ReportFailure(absl::string_view what, const absl::Status& status) {
  if (status.ok()) return;
  WriteStderr(absl::StrCat("mproc: ", what, ": ", status.ToString(), "\n"));
}

}  // namespace

ProcessState::ProcessState(int64_t pid) {
  info_.name = "MainProcess";
  info_.pid = pid;
}

ProcessState::ProcessState(const ChildIdentity& identity,
                           const ChildRuntime& runtime,
                           StartMethod start_method)
    : launcher_(runtime.backend),
      launch_method_(std::move(start_method)),
      cancellation_(runtime.cancellation),
      listener_(runtime.listener),
      handovers_(runtime.handovers) {
  info_.name = identity.name;
  info_.pid = runtime.pid;
  info_.daemon = identity.daemon;
  info_.identity = identity.identity;
  parent_ =
      ProcessInfo{.name = identity.parent_name, .pid = identity.parent_pid};
}

std::vector<int> ProcessState::NextChildIdentity() {
  std::vector<int> identity = info_.identity;
  absl::MutexLock lock(&mu_);
  identity.push_back(next_child_number_++);
  return identity;
}

void ProcessState::AddChild(std::shared_ptr<ProcessRecord> child) {
  absl::MutexLock lock(&mu_);
  children_.push_back(std::move(child));
}

void ProcessState::RemoveChild(const ProcessRecord* child) {
  absl::MutexLock lock(&mu_);
  std::erase_if(children_, [child](const auto& c) { return c.get() == child; });
}

std::vector<std::shared_ptr<ProcessRecord>> ProcessState::Children() {
  absl::MutexLock lock(&mu_);
  return children_;
}

std::vector<std::shared_ptr<ProcessRecord>> ProcessState::ReapChildren() {
  std::vector<std::shared_ptr<ProcessRecord>> alive;
  for (const std::shared_ptr<ProcessRecord>& child : Children()) {
    absl::StatusOr<std::optional<ExitStatus>> exit =
        PollChild(*child, absl::InfinitePast());
    if (exit.ok() && exit->has_value()) {
      RemoveChild(child.get());
    } else {
      alive.push_back(child);
    }
  }
  return alive;
}

void ProcessState::AddManager(std::shared_ptr<ExitShutdown> manager) {
  absl::MutexLock lock(&mu_);
  managers_.push_back(std::move(manager));
}

void ProcessState::RemoveManager(const ExitShutdown* manager) {
  absl::MutexLock lock(&mu_);
  std::erase_if(managers_,
                [manager](const auto& m) { return m.get() == manager; });
}

std::shared_ptr<ManagerConnection> ProcessState::FindConnection(
    absl::string_view address) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(address);
  return it == connections_.end() ? nullptr : it->second;
}

void ProcessState::AddConnection(
    absl::string_view address, std::shared_ptr<ManagerConnection> connection) {
  absl::MutexLock lock(&mu_);
  connections_.insert_or_assign(std::string(address), std::move(connection));
}

std::shared_ptr<ManagerConnection> ProcessState::TakeConnection(
    absl::string_view address) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(address);
  if (it == connections_.end()) return nullptr;
  std::shared_ptr<ManagerConnection> connection = std::move(it->second);
  connections_.erase(it);
  return connection;
}

absl::Status ProcessState::SyncConnections() {
  std::vector<std::shared_ptr<ManagerConnection>> connections;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [address, connection] : connections_) {
      connections.push_back(connection);
    }
  }
  absl::Status first;
  for (const auto& connection : connections) first.Update(connection->Sync());
  return first;
}

absl::Status ProcessState::SyncUnacknowledgedWrites() {
  std::vector<std::shared_ptr<ManagerConnection>> connections;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [address, connection] : connections_) {
      connections.push_back(connection);
    }
  }
  absl::Status lost;
  for (const auto& connection : connections) {
    if (connection->HasUnacknowledgedWrites()) lost.Update(connection->Sync());
  }
  return lost;
}

absl::Status ProcessState::RunExitRules(bool cancelled) {
  absl::Status lost = SyncUnacknowledgedWrites();

  std::vector<std::shared_ptr<ExitShutdown>> managers;
  {
    absl::MutexLock lock(&mu_);
    managers.swap(managers_);
  }
  for (auto it = managers.rbegin(); it != managers.rend(); ++it) {
    (*it)->ShutdownAtExit();
  }

  std::vector<std::shared_ptr<ProcessRecord>> stopped, joined;
  for (std::shared_ptr<ProcessRecord>& child : ReapChildren()) {
    bool daemon;
    {
      absl::MutexLock lock(&child->mu);
      daemon = child->daemon;
    }
    (daemon || cancelled ? stopped : joined).push_back(std::move(child));
  }
  ReportFailure("stopping a child at exit", StopChildren(stopped, ExitGrace()));
  for (const std::shared_ptr<ProcessRecord>& child : joined) {
    ReportFailure("joining a child at exit",
                  PollChild(*child, absl::InfiniteFuture()).status());
  }
  for (const auto* children : {&stopped, &joined}) {
    for (const std::shared_ptr<ProcessRecord>& child : *children) {
      RemoveChild(child.get());
    }
  }

  // Writes posted meanwhile (by other threads) are synced as well.
  lost.Update(SyncUnacknowledgedWrites());
  absl::flat_hash_map<std::string, std::shared_ptr<ManagerConnection>>
      connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (auto& [address, connection] : connections) connection->Close();
  return lost;
}

ProcessState& CurrentState() {
  if (current_thread_state != nullptr) return *current_thread_state;
  ProcessState* state = process_wide_state.load(std::memory_order_acquire);
  if (state != nullptr) return *state;
  auto* created = new ProcessState(MainPid());  // never destroyed
  if (process_wide_state.compare_exchange_strong(state, created,
                                                 std::memory_order_acq_rel)) {
    return *created;
  }
  delete created;
  return *state;
}

void InstallState(ProcessState* state, bool owns_process) {
  if (owns_process) {
    // The old state is abandoned, never destroyed: after fork its locks and
    // children belong to the parent.
    process_wide_state.store(state, std::memory_order_release);
    current_thread_state = nullptr;
  } else {
    current_thread_state = state;
  }
}

absl::Duration ExitGrace() {
  return absl::Nanoseconds(exit_grace_nanos.load(std::memory_order_relaxed));
}

void SetExitGrace(absl::Duration grace) {
  exit_grace_nanos.store(absl::ToInt64Nanoseconds(grace),
                         std::memory_order_relaxed);
}

void EnsureExitRulesAtExit() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit([] {
      ReportFailure("syncing Manager writes at exit",
                    CurrentState().RunExitRules(/*cancelled=*/false));
    });
  });
}

void WriteStderr(absl::string_view text) {
  absl::MutexLock lock(&ForkGuardedMutex(ForkGuarded::kStderrWriter));
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace mproc::internal
