// The chapter's run_background_processes.py: a daemon and a non-daemon child
// run the same work, which starts a Manager. The daemon may not have children,
// so its Manager start fails (exit code 1, the error on stderr); the
// non-daemon finishes (exit code 0). The program itself exits 0: the daemon's
// failure is the demonstration.
#include <cstdio>

#include "api/current_process.h"
#include "api/process.h"
#include "examples/example_context.h"
#include "workloads/workloads.h"

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  mproc::Process background_process =
      ctx.NewProcess(mproc::Target(&mproc::workloads::BackgroundWork, 1000),
                     {.name = "background_process", .daemon = true});
  mproc::Process no_background_process =
      ctx.NewProcess(mproc::Target(&mproc::workloads::BackgroundWork, 1000),
                     {.name = "NO_background_process", .daemon = false});

  // The daemon fails at once; joining it (bounded) before starting the other
  // keeps the output in the seed's order, whatever the scheduler does.
  mproc::PrintLine("Starting background_process");
  mproc::PrintLine("Starting NO_background_process");
  absl::Status status = background_process.Start();
  if (status.ok()) status = background_process.Join(absl::Seconds(60));
  if (status.ok()) status = no_background_process.Start();
  if (status.ok()) status = no_background_process.Join();
  if (!status.ok()) {
    std::fprintf(stderr, "run_background_processes: %s\n",
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}
