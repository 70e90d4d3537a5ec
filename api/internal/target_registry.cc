#include "api/internal/target_registry.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "api/internal/fork_locks.h"

namespace mproc::internal {
namespace {

struct Entry {
  FunctionKey key;
  TargetInvoker invoker;
};

// Its mutex is fork-guarded: a forked child looks targets up.
struct Registry {
  absl::Mutex& mu = ForkGuardedMutex(ForkGuarded::kTargetRegistry);
  absl::node_hash_map<std::string, Entry> by_name ABSL_GUARDED_BY(mu);
  absl::node_hash_map<FunctionKey, std::string> by_key ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry;  // never destroyed
  return *registry;
}

}  // namespace

bool RegisterTargetInvoker(absl::string_view name, FunctionKey key,
                           TargetInvoker invoker) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto [it, inserted] =
      registry.by_name.try_emplace(std::string(name), Entry{key, invoker});
  if (!inserted && it->second.key != key) {
    std::fprintf(stderr,
                 "mproc: two different functions are registered as target "
                 "'%.*s'; give one of them another name with "
                 "MPROC_REGISTER_TARGET_AS\n",
                 static_cast<int>(name.size()), name.data());
    std::terminate();
  }
  registry.by_key.try_emplace(key, std::string(name));
  return true;
}

absl::string_view RegisteredNameOf(FunctionKey key) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto it = registry.by_key.find(key);
  // The strings live as long as the registry, which is never destroyed.
  return it == registry.by_key.end() ? absl::string_view() : it->second;
}

const TargetInvoker* FindTargetInvoker(absl::string_view name) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  auto it = registry.by_name.find(name);
  return it == registry.by_name.end() ? nullptr : &it->second.invoker;
}

std::vector<std::string> RegisteredTargetNames() {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  std::vector<std::string> names;
  names.reserve(registry.by_name.size());
  for (const auto& [name, entry] : registry.by_name) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mproc::internal
