// -----------------------------------------------------------------------------
// File: api/internal/target_registry.h
// -----------------------------------------------------------------------------
//
// Internal: the process-wide table of registered targets
// (MPROC_REGISTER_TARGET), looked up by name in a re-executed child and by
// function address when a TargetCall is built. Filled during static
// initialisation; read-only after.

#ifndef MPROC_API_INTERNAL_TARGET_REGISTRY_H_
#define MPROC_API_INTERNAL_TARGET_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/wire.h"

namespace mproc::internal {

// Decodes a target's arguments from `args` and runs it; returns its exit code,
// or the error it returned (or that decoding found).
using TargetInvoker = std::function<absl::StatusOr<int>(ByteReader& args)>;

// An opaque key for a function's address.
using FunctionKey = uintptr_t;

// Registers `invoker` under `name` for the function whose address is `key`.
// Registering the same name twice for different functions is a programming
// error: it prints both and terminates. Returns true (for static initialisers).
bool RegisterTargetInvoker(absl::string_view name, FunctionKey key,
                           TargetInvoker invoker);

// The name `key` was registered under, or "" when it was not registered.
absl::string_view RegisteredNameOf(FunctionKey key);

// The invoker registered as `name`, or nullptr.
const TargetInvoker* FindTargetInvoker(absl::string_view name);

// Every registered name, sorted (for error messages and tests).
std::vector<std::string> RegisteredTargetNames();

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_TARGET_REGISTRY_H_
