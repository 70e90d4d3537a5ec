// -----------------------------------------------------------------------------
// File: api/exit.h
// -----------------------------------------------------------------------------
//
// `mproc::Exit(code)`: ends the current child with exit code `code`, the same
// way on every backend, as Python's `sys.exit(code)` does in a
// multiprocessing child.
//
//   void Work(int n) {
//     if (n < 0) mproc::Exit(3);  // the parent's exitcode() is 3
//     ...
//   }
//
// In a child it unwinds the target's stack by throwing `ProcessExit` (a type
// *not* derived from std::exception, like `ProcessCancelled`), so destructors
// run on every backend; `RunChild` catches it, applies the exit-time rules
// (Managers shut down, daemon children stopped, other children joined,
// pipelined Manager writes synced: lost writes turn an exit code 0 into 1) and
// ends the child with `code`. On the thread backend `std::exit` would end the
// whole program; `Exit` ends only the child.
//
// In the main process (no parent) it calls `std::exit(code)`, which runs the
// main process's exit-time rules (registered with std::atexit).

#ifndef MPROC_API_EXIT_H_
#define MPROC_API_EXIT_H_

namespace mproc {

// What `Exit` unwinds a child with. Do not catch it, or rethrow it: a
// `catch (...)` that swallows it cancels the exit (as catching SystemExit does
// in Python), and a noexcept function it leaves calls std::terminate.
struct ProcessExit {
  int code;  // 0-255
};

// Ends the current process (a child: its target) with exit code `code`.
// Preconditions: 0 <= code <= 255 (the portable range; checked with
// Expects); called from the thread that runs the target (in a child) or from
// any thread of the main process.
[[noreturn]] void Exit(int code);

}  // namespace mproc

#endif  // MPROC_API_EXIT_H_
