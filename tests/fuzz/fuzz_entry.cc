// The libFuzzer entry point of one harness, picked at build time by the
// compile definition MPROC_FUZZ_HARNESS (its name in AllHarnesses()). An
// input that breaks an invariant aborts, so libFuzzer saves it as a crash.
#include <pthread.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/harnesses.h"

namespace {

const mproc::fuzz::Harness* harness = nullptr;
// A copy of stderr taken before libFuzzer closes it (-close_fd_mask=2, which
// silences the Manager server's log lines): the invariant reports go there.
int report_fd = 2;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  for (const mproc::fuzz::Harness& h : mproc::fuzz::AllHarnesses()) {
    if (absl::string_view(h.name) == MPROC_FUZZ_HARNESS) harness = &h;
  }
  if (harness == nullptr) std::abort();
  // The Manager server starts a thread per client: with glibc's 8 MiB
  // default stack, ASan's per-thread stack bookkeeping dominated the
  // manager_server target's time. Its threads need far less.
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) == 0) {
    (void)pthread_attr_setstacksize(&attr, size_t{512} << 10);
    (void)pthread_setattr_default_np(&attr);
    (void)pthread_attr_destroy(&attr);
  }
  const int copy = dup(2);
  if (copy >= 0) report_fd = copy;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Status status = harness->run(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!status.ok()) {
    const std::string report =
        absl::StrCat("mproc fuzz harness ", harness->name,
                     ": invariant broken: ", status.ToString(), "\n");
    (void)!write(report_fd, report.data(), report.size());
    std::abort();
  }
  return 0;
}
