// -----------------------------------------------------------------------------
// File: api/internal/task_registry.h
// -----------------------------------------------------------------------------
//
// Internal: the process-wide table of Pool task functions
// (MPROC_REGISTER_TASK, api/pool.h), looked up by name in a worker and by
// function address when a task is submitted. Filled during static
// initialisation; read-only after. The target registry's twin: a task
// returns a value (encoded back to the pool), a target an exit code.

#ifndef MPROC_API_INTERNAL_TASK_REGISTRY_H_
#define MPROC_API_INTERNAL_TASK_REGISTRY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/internal/target_registry.h"
#include "api/wire.h"

namespace mproc::internal {

// Decodes a task's arguments from `args`, calls the function whose address is
// `function`, and appends its encoded result to `result`; or returns the
// error it returned (or that decoding found), `result` then unspecified. One
// instantiation per task signature.
using TaskThunk = absl::Status (*)(FunctionKey function, ByteReader& args,
                                   ByteWriter& result);

// A task function and the thunk that calls it.
struct TaskFunction {
  TaskThunk thunk = nullptr;
  FunctionKey function = 0;
};

// Registers `task` under `name`. Registering the same name twice for
// different functions is a programming error: it prints both and terminates.
// Returns true (for static initialisers).
bool RegisterTaskFunction(absl::string_view name, TaskFunction task);

// The name the function at `function` was registered under, or "".
absl::string_view RegisteredTaskNameOf(FunctionKey function);

// The task registered as `name`, or std::nullopt.
std::optional<TaskFunction> FindTaskFunction(absl::string_view name);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_TASK_REGISTRY_H_
