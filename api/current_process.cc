#include "api/current_process.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/internal/fork_locks.h"
#include "api/internal/process_record.h"
#include "api/internal/process_state.h"

namespace mproc {

ProcessInfo CurrentProcess() { return internal::CurrentState().info(); }

std::optional<ProcessInfo> ParentProcess() {
  return internal::CurrentState().parent();
}

std::vector<ProcessInfo> ActiveChildren() {
  std::vector<ProcessInfo> out;
  for (const auto& record : internal::CurrentState().ReapChildren()) {
    absl::MutexLock lock(&record->mu);
    out.push_back(ProcessInfo{.name = record->name,
                              .pid = record->pid.value_or(0),
                              .daemon = record->daemon,
                              .identity = record->identity});
  }
  return out;
}

void PrintLine(absl::string_view line) {
  std::string text = absl::StrCat(line, "\n");
  absl::MutexLock lock(
      &internal::ForkGuardedMutex(internal::ForkGuarded::kStdoutWriter));
  // Flush first so the line is the only thing in the next write.
  std::fflush(stdout);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace mproc
