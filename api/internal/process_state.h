// -----------------------------------------------------------------------------
// File: api/internal/process_state.h
// -----------------------------------------------------------------------------
//
// Internal: what mproc knows about the process it runs in: its identity, its
// children, the Managers it started, its Manager connections, and the
// exit-time rules. There is one per OS process, and one per thread-backend
// child (installed for that child's thread).

#ifndef MPROC_API_INTERNAL_PROCESS_STATE_H_
#define MPROC_API_INTERNAL_PROCESS_STATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/current_process.h"

namespace mproc::internal {

struct ProcessRecord;
class ManagerConnection;

// A Manager this process started, which the exit-time rules shut down first.
class ExitShutdown {
 public:
  virtual ~ExitShutdown() = default;
  virtual void ShutdownAtExit() = 0;
};

class ProcessState {
 public:
  // The main process: "MainProcess", no parent.
  explicit ProcessState(int64_t pid);
  // A child, from its launch request.
  ProcessState(const ChildIdentity& identity, const ChildRuntime& runtime,
               StartMethod start_method);

  const ProcessInfo& info() const { return info_; }
  int64_t pid() const { return info_.pid; }
  bool daemon() const { return info_.daemon; }
  const std::optional<ProcessInfo>& parent() const { return parent_; }
  // The backend and start method that launched this process (nullptr and
  // empty in the main process): GetContext("") in a child.
  Backend* launcher() const { return launcher_; }
  const StartMethod& launch_method() const { return launch_method_; }
  // Null in the main process and in real OS processes.
  const std::shared_ptr<CancellationFlag>& cancellation() const {
    return cancellation_;
  }

  // The listener a Manager server was launched with (once; then nullptr).
  std::shared_ptr<Listener> TakeListener() { return std::move(listener_); }

  // The OS objects this process was launched with (ChildRuntime::handovers):
  // its handover table. Empty in the main process.
  const std::vector<std::shared_ptr<SharedObject>>& handovers() const {
    return handovers_;
  }

  // True while cancellation may unwind this process: it has a flag and has
  // not begun its exit-time rules (which must run to the end).
  bool cancellable() const {
    return cancellation_ != nullptr &&
           !exiting_.load(std::memory_order_acquire);
  }
  void BeginExit() { exiting_.store(true, std::memory_order_release); }

  // The identity of the next Process this process creates: its own identity
  // plus the next counter value.
  std::vector<int> NextChildIdentity();

  void AddChild(std::shared_ptr<ProcessRecord> child);
  void RemoveChild(const ProcessRecord* child);
  std::vector<std::shared_ptr<ProcessRecord>> Children();
  // Polls every child; forgets those that have ended; returns the others.
  std::vector<std::shared_ptr<ProcessRecord>> ReapChildren();

  void AddManager(std::shared_ptr<ExitShutdown> manager);
  void RemoveManager(const ExitShutdown* manager);

  // This process's connection to the server at `address`, if open.
  std::shared_ptr<ManagerConnection> FindConnection(absl::string_view address);
  void AddConnection(absl::string_view address,
                     std::shared_ptr<ManagerConnection> connection);
  std::shared_ptr<ManagerConnection> TakeConnection(absl::string_view address);
  // Returns once every connection's writes are applied by its server;
  // reports the first failure.
  [[nodiscard]] absl::Status SyncConnections();

  // The exit-time rules: sync pipelined Manager writes, shut down the
  // Managers this process started, stop daemon children (Terminate, one
  // shared wait of ExitGrace(), Kill those still running, reap), join the
  // others. When `cancelled`, every child is stopped so (a cancelled thread
  // child cannot leave children behind). Prints on stderr what fails in
  // those steps.
  //
  // Returns the exit-code rule's input (docs/design.md §4): an error when
  // writes the process had posted and not yet seen acknowledged were lost
  // (their connection failed at the final sync); the caller reports it once
  // and a child turns exit code 0 into 1. A connection already known broken
  // is not synced again: the call that broke it returned the error to the
  // target, which decided what it means.
  [[nodiscard]] absl::Status RunExitRules(bool cancelled);

 private:
  ProcessInfo info_;
  std::optional<ProcessInfo> parent_;
  Backend* launcher_ = nullptr;
  StartMethod launch_method_;
  std::shared_ptr<CancellationFlag> cancellation_;
  std::atomic<bool> exiting_{false};
  std::shared_ptr<Listener> listener_;
  std::vector<std::shared_ptr<SharedObject>> handovers_;

  // Syncs the connections that hold unacknowledged writes; the first loss.
  absl::Status SyncUnacknowledgedWrites();

  absl::Mutex mu_;
  int next_child_number_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::shared_ptr<ProcessRecord>> children_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<ExitShutdown>> managers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<ManagerConnection>>
      connections_ ABSL_GUARDED_BY(mu_);
};

// The calling thread's process: the thread-backend child it runs, or the OS
// process (created on first use as MainProcess).
ProcessState& CurrentState();

// Makes `state` current: for the calling thread only (`owns_process` false),
// or for the whole OS process (true: after fork or in a re-executed child;
// the previous state is abandoned, never destroyed). Pass nullptr with
// `owns_process` false to leave a thread child.
void InstallState(ProcessState* state, bool owns_process);

// How long the exit-time rules wait for terminated daemon children before
// they kill them (docs/design.md §4): kDefaultExitGrace unless changed.
inline constexpr absl::Duration kDefaultExitGrace = absl::Seconds(10);
absl::Duration ExitGrace();
// Sets ExitGrace() for this process (and children forked later). For tests;
// `grace` >= 0.
void SetExitGrace(absl::Duration grace);

// Registers the main process's exit-time rules with std::atexit, once.
void EnsureExitRulesAtExit();

// Writes `text` to stderr in one write.
void WriteStderr(absl::string_view text);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_PROCESS_STATE_H_
