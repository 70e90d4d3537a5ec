// Message passing: two producers put numbers on a Queue, three workers take
// them and square them, and each worker sends its count and sum back to the
// parent over its own Pipe; the parent collects the results with Wait as they
// come and prints the exact totals. Runs on every context (--backend,
// --start_method).
#include <cstdint>
#include <cstdio>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/pipe.h"
#include "api/queue.h"
#include "api/wait.h"
#include "examples/example_context.h"

namespace {

constexpr int64_t kProducers = 2;
constexpr int64_t kItemsPerProducer = 1000;
constexpr int64_t kWorkers = 3;
// Tells a worker that no item follows (the numbers put are never negative).
constexpr int64_t kNoMoreItems = -1;

// Puts first, first + 1, ..., first + count - 1.
absl::Status Produce(mproc::Queue<int64_t> tasks, int64_t first,
                     int64_t count) {
  for (int64_t n = first; n < first + count; ++n) {
    if (absl::Status s = tasks.Put(n); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(Produce);

// Squares every number it takes until kNoMoreItems, then sends how many it
// took and the sum of their squares.
absl::Status Work(mproc::Queue<int64_t> tasks, mproc::Connection results) {
  int64_t count = 0;
  int64_t sum_of_squares = 0;
  for (;;) {
    absl::StatusOr<int64_t> n = tasks.Get();
    if (!n.ok()) return n.status();
    if (*n == kNoMoreItems) break;
    ++count;
    sum_of_squares += *n * *n;
  }
  return results.Send(std::vector<int64_t>{count, sum_of_squares});
}
MPROC_REGISTER_TARGET(Work);

absl::Status CheckEndedWell(mproc::Process& process) {
  if (absl::Status s = process.Join(); !s.ok()) return s;
  if (process.exitcode() != 0) {
    return absl::InternalError(absl::StrFormat(
        "%s ended with %d", process.name(), *process.exitcode()));
  }
  return absl::OkStatus();
}

absl::Status Run(const mproc::Context& ctx) {
  absl::StatusOr<mproc::Queue<int64_t>> tasks =
      mproc::Queue<int64_t>::Create(ctx, /*maxsize=*/100);
  if (!tasks.ok()) return tasks.status();

  std::vector<mproc::Process> workers;
  std::vector<mproc::Connection> results;
  for (int64_t i = 0; i < kWorkers; ++i) {
    auto pipe = ctx.Pipe(/*duplex=*/false);
    if (!pipe.ok()) return pipe.status();
    auto& [reader, writer] = *pipe;
    workers.push_back(ctx.NewProcess(mproc::Target(&Work, *tasks, writer)));
    if (absl::Status s = workers.back().Start(); !s.ok()) return s;
    writer.Close();  // the worker holds it: its end reads end-of-stream
    results.push_back(reader);
  }
  std::vector<mproc::Process> producers;
  for (int64_t i = 0; i < kProducers; ++i) {
    producers.push_back(ctx.NewProcess(mproc::Target(
        &Produce, *tasks, i * kItemsPerProducer, kItemsPerProducer)));
    if (absl::Status s = producers.back().Start(); !s.ok()) return s;
  }
  for (mproc::Process& producer : producers) {
    if (absl::Status s = CheckEndedWell(producer); !s.ok()) return s;
  }
  for (int64_t i = 0; i < kWorkers; ++i) {
    if (absl::Status s = tasks->Put(kNoMoreItems); !s.ok()) return s;
  }

  // Results in the order the workers finish.
  int64_t received = 0;
  int64_t count = 0;
  int64_t sum_of_squares = 0;
  while (!results.empty()) {
    std::vector<mproc::WaitObject> objects(results.begin(), results.end());
    absl::StatusOr<std::vector<size_t>> ready =
        mproc::Wait(objects, absl::Seconds(60));
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      return absl::DeadlineExceededError("no worker reported within 60 s");
    }
    // Highest position first, so erasing keeps the others' positions.
    for (auto it = ready->rbegin(); it != ready->rend(); ++it) {
      absl::StatusOr<std::vector<int64_t>> result =
          results[*it].Recv<std::vector<int64_t>>();
      if (!result.ok()) return result.status();
      if (result->size() != 2) {
        return absl::InternalError("a worker sent a malformed result");
      }
      ++received;
      count += (*result)[0];
      sum_of_squares += (*result)[1];
      results[*it].Close();
      results.erase(results.begin() + static_cast<ptrdiff_t>(*it));
    }
  }
  for (mproc::Process& worker : workers) {
    if (absl::Status s = CheckEndedWell(worker); !s.ok()) return s;
  }

  mproc::PrintLine(absl::StrFormat("%d producers x %d items, %d workers",
                                   kProducers, kItemsPerProducer, kWorkers));
  mproc::PrintLine(absl::StrFormat("Results received: %d", received));
  mproc::PrintLine(absl::StrFormat("Items processed: %d", count));
  mproc::PrintLine(absl::StrFormat("Sum of squares: %d", sum_of_squares));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  if (absl::Status s = Run(ctx); !s.ok()) {
    std::fprintf(stderr, "pipeline: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
