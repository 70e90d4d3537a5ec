#include "api/context.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/internal/lifecycle.h"
#include "api/internal/process_record.h"
#include "api/internal/process_state.h"

namespace mproc {

std::string Context::name() const {
  // A backend with one start method named after itself is just "thread".
  if (backend_->start_methods().size() == 1 &&
      start_method_.name == backend_->name()) {
    return std::string(backend_->name());
  }
  return absl::StrCat(backend_->name(), ":", start_method_.name);
}

Process Context::NewProcess(TargetCall target, ProcessOptions options) const {
  internal::ProcessState& self = internal::CurrentState();
  auto record = std::make_shared<internal::ProcessRecord>(
      backend_, start_method_, self.NextChildIdentity(), self.pid());
  absl::MutexLock lock(&record->mu);
  record->name = internal::DefaultName(record->identity);
  if (options.name.has_value()) {
    record->deferred_error = internal::ValidateName(*options.name);
    if (record->deferred_error.ok()) record->name = *std::move(options.name);
  }
  record->daemon = options.daemon;
  record->kill_on_parent_death = options.kill_on_parent_death;
  record->target = std::move(target);
  return Process(std::move(record));
}

std::vector<std::string> AvailableContexts() {
  std::vector<std::string> names;
  for (Backend* backend : RegisteredBackends()) {
    for (const StartMethod& method : backend->start_methods()) {
      if (backend->start_methods().size() == 1 &&
          method.name == backend->name()) {
        names.emplace_back(backend->name());
      } else {
        names.push_back(absl::StrCat(backend->name(), ":", method.name));
      }
    }
  }
  return names;
}

absl::StatusOr<Context> GetContext(absl::string_view name) {
  if (name.empty()) {
    internal::ProcessState& self = internal::CurrentState();
    if (self.launcher() != nullptr) {
      return Context(self.launcher(), self.launch_method());
    }
    std::vector<Backend*> backends = RegisteredBackends();
    if (backends.empty()) {
      return absl::NotFoundError(
          "no mproc backend is linked into this program; link one "
          "(mproc::posix, mproc::windows or mproc::thread)");
    }
    return Context(backends.front(), backends.front()->start_methods().front());
  }
  const size_t colon = name.find(':');
  absl::string_view backend_name = name.substr(0, colon);
  Backend* backend = FindBackend(backend_name);
  if (backend != nullptr) {
    std::vector<StartMethod> methods = backend->start_methods();
    if (colon == absl::string_view::npos)
      return Context(backend, methods.front());
    absl::string_view method_name = name.substr(colon + 1);
    for (StartMethod& method : methods) {
      if (method.name == method_name)
        return Context(backend, std::move(method));
    }
  }
  return absl::NotFoundError(
      absl::StrCat("unknown context '", name,
                   "'; available: ", absl::StrJoin(AvailableContexts(), ", ")));
}

}  // namespace mproc
