// The chapter's spawning_processes.py: six children started and joined one
// after another; child i reports i * 1000 results.
#include <cstdio>

#include "api/current_process.h"
#include "api/process.h"
#include "examples/example_context.h"
#include "workloads/workloads.h"

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  for (int i = 0; i < 6; ++i) {
    mproc::Process process =
        ctx.NewProcess(mproc::Target(&mproc::workloads::SpawnLoopItem, i));
    absl::Status status = process.Start();
    if (status.ok()) status = process.Join();
    if (!status.ok()) {
      std::fprintf(stderr, "spawning_processes: %s\n",
                   status.ToString().c_str());
      return 1;
    }
    if (process.exitcode() != 0) {
      std::fprintf(stderr, "spawning_processes: process %d ended with %d\n", i,
                   process.exitcode().value_or(-1));
      return 1;
    }
  }
  return 0;
}
