#include "api/internal/task_registry.h"

#include <cstdio>
#include <exception>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "api/internal/fork_locks.h"

namespace mproc::internal {
namespace {

// Its mutex is fork-guarded: a forked worker looks tasks up.
struct Registry {
  absl::Mutex& mu = ForkGuardedMutex(ForkGuarded::kTaskRegistry);
  absl::node_hash_map<std::string, TaskFunction> by_name ABSL_GUARDED_BY(mu);
  absl::node_hash_map<FunctionKey, std::string> by_key ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry;  // never destroyed
  return *registry;
}

}  // namespace

bool RegisterTaskFunction(absl::string_view name, TaskFunction task) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto [it, inserted] = registry.by_name.try_emplace(std::string(name), task);
  if (!inserted && it->second.function != task.function) {
    std::fprintf(stderr,
                 "mproc: two different functions are registered as task "
                 "'%.*s'; give one of them another name with "
                 "MPROC_REGISTER_TASK_AS\n",
                 static_cast<int>(name.size()), name.data());
    std::terminate();
  }
  registry.by_key.try_emplace(task.function, std::string(name));
  return true;
}

absl::string_view RegisteredTaskNameOf(FunctionKey function) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto it = registry.by_key.find(function);
  // The strings live as long as the registry, which is never destroyed.
  return it == registry.by_key.end() ? absl::string_view() : it->second;
}

std::optional<TaskFunction> FindTaskFunction(absl::string_view name) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto it = registry.by_name.find(name);
  if (it == registry.by_name.end()) return std::nullopt;
  return it->second;
}

}  // namespace mproc::internal
