// -----------------------------------------------------------------------------
// File: workloads/workloads.h
// -----------------------------------------------------------------------------
//
// Registered targets shared by the examples, the tests and the benchmarks.
// Each runs on every backend and start method. Lines they print go through
// mproc::PrintLine (one write per line).

#ifndef MPROC_WORKLOADS_WORKLOADS_H_
#define MPROC_WORKLOADS_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/manager.h"

namespace mproc::workloads {

// The chapter's do_something: appends `count` random doubles in [0, 1) to
// `out`. Errors: those of the proxy.
[[nodiscard]] absl::Status DoSomething(int64_t count, ListProxy<double> out);

// Prints its own process name as `name: <name>`, then DoSomething.
[[nodiscard]] absl::Status NamedDoSomething(int64_t count,
                                            ListProxy<double> out);

// The chapter's killing_processes target: prints `Starting function`, works
// for `work_millis` (cancellable), starts its own Manager, runs
// DoSomething(count) into it, prints `Finished function with <n> results.`.
// Fails (as a daemon must) when the Manager cannot start.
[[nodiscard]] absl::Status DoSomethingWithOwnManager(int64_t count,
                                                     int64_t work_millis);

// The chapter's spawning_processes myFunc(i): prints
// `calling do_something from process no: <i>`, runs DoSomething(i * 1000) into
// a Manager of its own, prints `Process <i> finished with <n> results.`.
[[nodiscard]] absl::Status SpawnLoopItem(int64_t i);

// The chapter's run_background_processes target: runs DoSomething(count) into
// a Manager of its own (so a daemon fails here), then prints
// `Exiting <name>`.
[[nodiscard]] absl::Status BackgroundWork(int64_t count);

// Prints `Starting function`, then sleeps in cancellable steps until it is
// terminated or killed (never returns on its own).
void RunUntilTerminated();

// Prints `Starting function` and runs until terminated, swallowing the
// cancellation unwind once with `catch (...)` (a `catch (const
// std::exception&)` does not see it); the next cancellation point unwinds it
// again, so it still ends as terminated.
[[nodiscard]] absl::Status SwallowCancellationOnce();

// Appends 1 to `list` once, then asks the Manager for the list's size again
// and again until terminated or killed (never returns on its own): a child
// that is always inside a Manager call or about to make one.
[[nodiscard]] absl::Status CallManagerUntilTerminated(ListProxy<int64_t> list);

// Sleeps `millis` (cancellable), then returns 0.
void SleepMillis(int64_t millis);

// CPU-bound: `iterations` rounds of integer mixing; returns 0 (the result is
// kept from being optimised away).
void BurnCpu(int64_t iterations);

// Exits with `code`.
int ExitWith(int64_t code);

// Returns absl::Status(code, message): exit code 1 and the status on stderr.
[[nodiscard]] absl::Status FailWith(int64_t code, std::string message);

// Throws std::runtime_error(what): exit code 1 and `what` on stderr.
void ThrowError(std::string what);

// Prints `line`.
void Print(std::string line);

// Prints `name=<name> pid=<pid> parent=<parent name>:<parent pid>
// daemon=<0|1>` for the current process.
void PrintIdentity();

// Appends the current process's name and pid (as text) to `out`.
[[nodiscard]] absl::Status ReportIdentity(ListProxy<std::string> out);

// Appends start, start+1, ..., start+count-1 to `out`, one Append each.
[[nodiscard]] absl::Status AppendRange(int64_t start, int64_t count,
                                       ListProxy<int64_t> out);

// Starts one child running ReportIdentity(out) through the current context,
// joins it, and returns its exitcode (or the error from Start).
[[nodiscard]] absl::Status SpawnGrandchild(ListProxy<std::string> out);

// Appends the sum of `values` to `out`.
[[nodiscard]] absl::Status SumInto(std::vector<int64_t> values,
                                   ListProxy<int64_t> out);

// Starts a daemon grandchild that runs until terminated, appends its name to
// `out`, and returns without joining it: the exit-time rules must terminate
// and join it.
[[nodiscard]] absl::Status StartDaemonGrandchildAndReturn(
    ListProxy<std::string> out);

// Starts a non-daemon grandchild running AppendRange(0, count, out) and
// returns without joining it: the exit-time rules must join it.
[[nodiscard]] absl::Status StartGrandchildAndReturn(int64_t count,
                                                    ListProxy<int64_t> out);

// Starts a grandchild, through a start method of the current backend that
// shares memory, whose target holds its own Process object and tries to Join,
// Terminate and Kill it; appends the three error messages to `out`.
// `kFailedPrecondition` when the backend has no such start method.
[[nodiscard]] absl::Status ReportSelfControlErrors(ListProxy<std::string> out);

// Returns 20 in a daemon, 10 otherwise.
int ExitWithDaemonFlag();

// Appends `in.Size()` to `out`.
[[nodiscard]] absl::Status CopySize(ListProxy<int64_t> in,
                                    ListProxy<int64_t> out);

// Prints `count` lines `<name> <i> <text>`, one PrintLine each.
void PrintLines(int64_t count, std::string text);

// Appends to `ready` (once the child's setup is done), then returns once
// `go` holds an item: a child that must outlive something the parent does.
[[nodiscard]] absl::Status ReadyThenWaitForGo(ListProxy<int64_t> ready,
                                              ListProxy<int64_t> go);

// Parent-death containment: starts, on `context`, a daemon running until
// terminated and a Manager — from this thread, or from a worker thread that
// then ends — appends their pids (daemon, then Manager) to `pids` and the
// Manager's address to `addresses`, then runs until it is killed.
[[nodiscard]] absl::Status StartOrphansThenRunUntilKilled(
    std::string context, bool from_worker_thread, ListProxy<int64_t> pids,
    ListProxy<std::string> addresses);

// Item 11 of the exit rules: appends 1 to `data` and reads its size (so the
// write is acknowledged), appends to `ready`, waits until `go` holds an item
// (the parent has shut `data`'s Manager down meanwhile), then calls
// data.Size() and, as a target that handles the error, returns OK. Returns an
// error only when that call succeeded.
[[nodiscard]] absl::Status HandleLostManager(ListProxy<int64_t> data,
                                             ListProxy<int64_t> ready,
                                             ListProxy<int64_t> go);

// Reads `data`'s size, then appends 1 to it (pipelined, not yet
// acknowledged), appends to `ready`, waits until `go` holds an item (the
// parent has shut `data`'s Manager down meanwhile) and returns OK: the write
// is lost, so the child must exit 1.
[[nodiscard]] absl::Status LosePipelinedWrite(ListProxy<int64_t> data,
                                              ListProxy<int64_t> ready,
                                              ListProxy<int64_t> go);

// Prints `before exit`, calls mproc::Exit(code), then (never) prints
// `after exit`.
void ExitEarly(int64_t code);

// Appends `value` to `out` (pipelined), then calls mproc::Exit(code): the
// exit-time rules still sync the write.
void AppendThenExit(int64_t value, int64_t code, ListProxy<int64_t> out);

// Sets the process-global counter to `value` (for memory-isolation tests)
// and returns 0.
void SetGlobalCounter(int64_t value);
int64_t GlobalCounter();

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_WORKLOADS_H_
