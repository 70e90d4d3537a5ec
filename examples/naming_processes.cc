// The chapter's naming_processes.py: two children, one named and one with the
// default name, each filling its own Manager list with 1000 results.
#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "examples/example_context.h"
#include "workloads/workloads.h"

namespace {

absl::Status Run(const mproc::Context& ctx) {
  const absl::Time start = absl::Now();
  absl::StatusOr<mproc::Manager> manager = ctx.StartManager();
  if (!manager.ok()) return manager.status();
  absl::StatusOr<mproc::ListProxy<double>> out_list1 = manager->List<double>();
  if (!out_list1.ok()) return out_list1.status();
  absl::StatusOr<mproc::ListProxy<double>> out_list2 = manager->List<double>();
  if (!out_list2.ok()) return out_list2.status();

  mproc::Process process_with_name = ctx.NewProcess(
      mproc::Target(&mproc::workloads::NamedDoSomething, 1000, *out_list1),
      {.name = "do_something process 1"});
  mproc::Process process_with_default_name = ctx.NewProcess(
      mproc::Target(&mproc::workloads::NamedDoSomething, 1000, *out_list2));

  if (absl::Status s = process_with_name.Start(); !s.ok()) return s;
  if (absl::Status s = process_with_default_name.Start(); !s.ok()) return s;
  if (absl::Status s = process_with_name.Join(); !s.ok()) return s;
  if (absl::Status s = process_with_default_name.Join(); !s.ok()) return s;

  absl::StatusOr<int64_t> length1 = out_list1->Size();
  if (!length1.ok()) return length1.status();
  absl::StatusOr<int64_t> length2 = out_list2->Size();
  if (!length2.ok()) return length2.status();
  mproc::PrintLine(
      absl::StrFormat("Process 1 output list length: %d", *length1));
  mproc::PrintLine(
      absl::StrFormat("Process 2 output list length: %d", *length2));
  if (absl::Status s = manager->Shutdown(); !s.ok()) return s;
  mproc::PrintLine(absl::StrFormat("Total execution time: %.2f seconds",
                                   absl::ToDoubleSeconds(absl::Now() - start)));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  if (absl::Status s = Run(ctx); !s.ok()) {
    std::fprintf(stderr, "naming_processes: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
