// The chapter's killing_processes.py: start, terminate and join one child,
// printing its repr and is_alive at each step.
//
// By default the child's work is short and the parent lets it finish (a
// bounded Join) before Terminate, so the output is the seed's, exit code 0.
// --work=long makes the child run until it is terminated: exit code -15.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "api/process.h"
#include "examples/example_context.h"
#include "workloads/workloads.h"

ABSL_FLAG(std::string, work, "short",
          "short: the child finishes before Terminate (exit code 0); long: it "
          "runs until terminated (exit code -15)");

namespace {

using mproc::examples::PyBool;

// The short child works this long, so it is still running when the parent
// prints "Process running" right after Start.
constexpr int64_t kShortWorkMillis = 200;

absl::Status Run(const mproc::Context& ctx) {
  const bool long_work = absl::GetFlag(FLAGS_work) == "long";
  mproc::Process p = ctx.NewProcess(
      long_work ? mproc::Target(&mproc::workloads::RunUntilTerminated)
                : mproc::Target(&mproc::workloads::DoSomethingWithOwnManager,
                                10, kShortWorkMillis));
  // Each line observes the child once (IsAlive), then prints the repr of
  // that observation.
  auto describe = [&p] {
    const bool alive = p.IsAlive();
    return absl::StrCat(p.ToString(), " ", PyBool(alive));
  };
  mproc::PrintLine(absl::StrCat("Process before execution: ", describe()));
  if (absl::Status s = p.Start(); !s.ok()) return s;
  mproc::PrintLine(absl::StrCat("Process running: ", describe()));
  // Short work: let the child finish, within a bound. Long work: give it a
  // moment to start, then terminate it mid-run.
  if (absl::Status s =
          p.Join(long_work ? absl::Milliseconds(300) : absl::Seconds(60));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = p.Terminate(); !s.ok()) return s;
  mproc::PrintLine(absl::StrCat("Process terminated: ", describe()));
  if (absl::Status s = p.Join(); !s.ok()) return s;
  mproc::PrintLine(absl::StrCat("Process joined: ", describe()));
  mproc::PrintLine(
      absl::StrCat("Process exit code: ", p.exitcode().value_or(0)));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  if (absl::Status s = Run(ctx); !s.ok()) {
    std::fprintf(stderr, "killing_processes: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
