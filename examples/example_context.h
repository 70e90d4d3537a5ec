// -----------------------------------------------------------------------------
// File: examples/example_context.h
// -----------------------------------------------------------------------------
//
// The flags every example takes, --backend and --start_method, and the
// Context they pick.

#ifndef MPROC_EXAMPLES_EXAMPLE_CONTEXT_H_
#define MPROC_EXAMPLES_EXAMPLE_CONTEXT_H_

#include "absl/status/statusor.h"
#include "api/context.h"

namespace mproc::examples {

// Runs a re-executed child if this is one, parses the command line, and
// returns the context named by --backend / --start_method (the default
// context when both are empty). Prints the error and exits 2 when the
// context is unknown.
Context InitExample(int argc, char** argv);

// "True" / "False", as Python prints booleans.
const char* PyBool(bool value);

}  // namespace mproc::examples

#endif  // MPROC_EXAMPLES_EXAMPLE_CONTEXT_H_
