#include <algorithm>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "api/backend.h"
#include "api/internal/fork_locks.h"

namespace mproc {
namespace {

// Its mutex is fork-guarded: a forked child looks backends up (GetContext).
struct Registry {
  absl::Mutex& mu =
      internal::ForkGuardedMutex(internal::ForkGuarded::kBackendRegistry);
  std::vector<std::unique_ptr<Backend>> backends ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry;  // never destroyed
  return *registry;
}

}  // namespace

void Backend::RunChildIfRequested(int, char**) {}
std::string Backend::SignalName(int signal) const {
  if (signal == kTerminateSignal) return "SIGTERM";
  if (signal == kKillSignal) return "SIGKILL";
  return "";
}
absl::Status Backend::ProtectProcessSecrets() { return absl::OkStatus(); }

bool RegisterBackend(std::unique_ptr<Backend> backend) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  registry.backends.push_back(std::move(backend));
  std::stable_sort(registry.backends.begin(), registry.backends.end(),
                   [](const auto& a, const auto& b) {
                     return a->priority() > b->priority();
                   });
  return true;
}

Backend* FindBackend(absl::string_view name) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  for (const auto& backend : registry.backends) {
    if (backend->name() == name) return backend.get();
  }
  return nullptr;
}

std::vector<Backend*> RegisteredBackends() {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  std::vector<Backend*> out;
  for (const auto& backend : registry.backends) out.push_back(backend.get());
  return out;
}

}  // namespace mproc
