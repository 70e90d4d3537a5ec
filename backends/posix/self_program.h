// -----------------------------------------------------------------------------
// File: backends/posix/self_program.h
// -----------------------------------------------------------------------------
//
// POSIX only (Linux): which file posix:spawn executes to start this program
// again. Normally `/proc/self/exe`. But when the program was started through
// an explicit loader (`/lib64/ld-linux-x86-64.so.2 ./prog`) or an emulator
// such as valgrind, /proc/self/exe is the loader or the emulator, not the
// program: then the main program's own file is executed instead, found
// through its mapping in /proc/self/maps and checked to be the same file.

#ifndef MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_
#define MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_

#include <string>

#include "absl/status/statusor.h"

namespace mproc::posix {

// The path to execute to start this program again: "/proc/self/exe" when
// that is the main program, else the main program's path. Worked out once
// per process. `kFailedPrecondition` (saying what to do) when the main
// program's file cannot be found or executed (moved, deleted, not
// executable).
[[nodiscard]] absl::StatusOr<std::string> ProgramToReexecute();

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_
