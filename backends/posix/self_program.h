// -----------------------------------------------------------------------------
// File: backends/posix/self_program.h
// -----------------------------------------------------------------------------
//
// POSIX only: which file posix:spawn executes to start this program again.
//
// Linux (MPROC_POSIX_HAVE_PROC_SELF_EXE): normally `/proc/self/exe`. But
// when the program was started through an explicit loader
// (`/lib64/ld-linux-x86-64.so.2 ./prog`) or an emulator such as valgrind,
// /proc/self/exe is the loader or the emulator, not the program: then the
// main program's own file is executed instead, found through its mapping in
// /proc/self/maps and checked to be the same file.
//
// Elsewhere (and with MPROC_POSIX_PORTABLE=ON): the path argv[0] named when
// the program started, resolved then against the working directory or $PATH
// (RecordProgramArgv0). The gap: a program started with an argv[0] that
// names no file (exec with a made-up argv[0]), or whose file was moved or
// replaced since, cannot use posix:spawn or posix:forkserver.

#ifndef MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_
#define MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_

#include <string>

#include "absl/status/statusor.h"

namespace mproc::posix {

// Records `argv0`, this program's argv[0], and resolves it to a path now,
// before anything can change the working directory: the posix backend's
// RunChildIfRequested (first thing in main) calls it. Only the first call
// counts.
void RecordProgramArgv0(const char* argv0);

// argv[0] for this program started again: the recorded one, else glibc's
// program_invocation_name, else "mproc".
const char* ProgramArgv0();

// The path to execute to start this program again (see above). Worked out
// once per process. `kFailedPrecondition` (saying what to do) when the main
// program's file cannot be found or executed (moved, deleted, not
// executable; without /proc: argv[0] not recorded or naming no file).
[[nodiscard]] absl::StatusOr<std::string> ProgramToReexecute();

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SELF_PROGRAM_H_
