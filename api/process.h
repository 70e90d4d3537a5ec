// -----------------------------------------------------------------------------
// File: api/process.h
// -----------------------------------------------------------------------------
//
// `Process`: one child, as CPython's multiprocessing.Process. Create it with
// `Context::NewProcess`, then Start, Join (with a timeout or not), Terminate,
// Kill, and read IsAlive / exitcode / pid / name.
//
//   mproc::Process p = ctx.NewProcess(mproc::Target(&Work, 10),
//                                     {.name = "worker"});
//   if (absl::Status s = p.Start(); !s.ok()) return s;
//   if (absl::Status s = p.Join(); !s.ok()) return s;
//   std::cout << p << " " << *p.exitcode() << "\n";
//
// Lifecycle errors (docs/design.md §4) are `kFailedPrecondition` with CPython's
// phrase first, then what to do: "cannot start a process twice; create a new
// Process", "can only join a started process; ...", "can only join a child
// process; ...", "process has already started; ...", "daemonic processes are
// not allowed to have children; ...", "Cannot close a process while it is
// still running; ...", "process object is closed; ...". Bad input (a name
// that is empty, longer than 1024 bytes, not UTF-8 or holding NUL; a negative
// timeout; an empty target; a closure on a start method that re-executes) is
// `kInvalidArgument`.
//
// Destroying a started Process that was not joined does not end or leak the
// child: it runs on and is reaped by the next Start or ActiveChildren() of its
// parent, or by the exit-time rules. Process is move-only and thread-safe;
// a moved-from Process answers every call with `kFailedPrecondition`.

#ifndef MPROC_API_PROCESS_H_
#define MPROC_API_PROCESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mproc {

namespace internal {
struct ProcessRecord;
}  // namespace internal

// How a new Process is set up. Use designated initialisers:
// `{.name = "worker", .daemon = true}`.
struct ProcessOptions {
  // std::nullopt: the default name `Process-N`. An invalid name is reported
  // by Start (`kInvalidArgument`).
  std::optional<std::string> name;
  // Daemon children are terminated when their parent exits normally, and may
  // not have children of their own.
  bool daemon = false;
  // End the child if its parent dies abnormally. std::nullopt: the daemon flag.
  std::optional<bool> kill_on_parent_death;
};

class Process {
 public:
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Does not end a running child (see the file comment).
  ~Process();

  // Starts the child. Errors: `kFailedPrecondition` when started twice,
  // closed, started by a process other than its creator, or when the current
  // process is a daemon; `kInvalidArgument` for a bad name, an empty target,
  // or a closure on a start method that re-executes; the backend's OS error
  // (kUnavailable, kResourceExhausted, ...) when the OS refuses, in which
  // case nothing was started and Start may be retried.
  [[nodiscard]] absl::Status Start();

  // Waits until the child ends or `timeout` passes. An expired timeout is
  // not an error: IsAlive() stays true and exitcode() std::nullopt.
  // Errors: `kFailedPrecondition` before Start, after Close, or when called
  // by a process other than the parent (the child itself included);
  // `kInvalidArgument` for a negative timeout.
  [[nodiscard]] absl::Status Join(
      absl::Duration timeout = absl::InfiniteDuration());

  // Asks the child to end as by SIGTERM (exitcode -15 once joined). OK and
  // no effect when it has already ended. Errors as Join's (no timeout).
  [[nodiscard]] absl::Status Terminate();
  // Ends the child as by SIGKILL (exitcode -9 once joined). As Terminate.
  [[nodiscard]] absl::Status Kill();

  // Stops the child and reaps it (reproc's stop): Terminate, wait up to
  // `grace` for it to end, then Kill and wait until it has ended. Afterwards
  // IsAlive() is false and exitcode() set (-15 when the terminate ended it,
  // -9 when the kill did). OK and no effect on a child that has already
  // ended. The exit-time rules stop daemon children this way. On a backend
  // without `Capabilities::preemptive_termination` (thread), a child that
  // never reaches a cancellation point cannot be ended, and Stop waits for
  // it. Errors as Join's (`kInvalidArgument` for a negative `grace`), and the
  // backend's error when the OS refuses to signal or wait.
  [[nodiscard]] absl::Status Stop(absl::Duration grace);

  // Releases the child's OS resources; afterwards every call but ToString,
  // name and daemon returns `kFailedPrecondition` "process object is closed".
  // Errors: `kFailedPrecondition` while the child runs.
  [[nodiscard]] absl::Status Close();

  // True between a successful Start and the child's end (polls the child).
  bool IsAlive() const;
  // CPython's exitcode: std::nullopt until the child has ended; then its exit
  // code, or -N when signal N ended it (-15 terminate, -9 kill on every
  // backend). Polls the child.
  std::optional<int> exitcode() const;
  // The child's pid once started (kept after it ends); std::nullopt before.
  std::optional<int64_t> pid() const;

  std::string name() const;
  // Errors: `kInvalidArgument` for an empty name, one over 1024 bytes, one
  // that is not UTF-8 or holds NUL.
  [[nodiscard]] absl::Status set_name(absl::string_view name);

  bool daemon() const;
  // Errors: `kFailedPrecondition` "process has already started" after Start.
  [[nodiscard]] absl::Status set_daemon(bool daemon);

  // CPython's repr: `<Process name='Process-1' pid=123 parent=100 started>`;
  // states initial, started, stopped (with `exitcode=`), closed; `daemon`
  // appended when set. Unlike CPython it does not poll the child: it shows
  // the state last observed by Join, IsAlive or exitcode, so a line that
  // prints IsAlive() and then the repr is always consistent.
  std::string ToString() const;
  friend std::ostream& operator<<(std::ostream& os, const Process& process) {
    return os << process.ToString();
  }

 private:
  friend class Context;
  friend class WaitObject;  // api/wait.h
  explicit Process(std::shared_ptr<internal::ProcessRecord> record);

  std::shared_ptr<internal::ProcessRecord> record_;
};

}  // namespace mproc

#endif  // MPROC_API_PROCESS_H_
