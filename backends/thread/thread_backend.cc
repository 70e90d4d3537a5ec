// Thread backend only: children are std::threads in this process.

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "backends/thread/lazy_crypto.h"
#include "backends/thread/memory_transport.h"
#include "backends/thread/thread_channel.h"
#include "backends/thread/thread_child.h"
#include "backends/thread/thread_shared.h"

namespace mproc::thread {
namespace {

// Synthetic pids start above any real pid (Linux pid_max is at most 2^22),
// so they never collide with a real process's pid in the same program.
constexpr int64_t kMainSyntheticPid = 10'000'000;

class ThreadBackend final : public Backend {
 public:
  ThreadBackend() {
    capabilities_.memory_isolation = {
        false,
        "thread children are threads of one process and share its memory"};
    capabilities_.preemptive_termination = {
        false,
        "Terminate/Kill are cooperative: a thread child ends at its next "
        "cancellation point (CancellationPoint, Sleep, a blocking Manager "
        "call)"};
    capabilities_.separate_descriptors = {
        false, "thread children share the process's descriptors and streams"};
  }

  absl::string_view name() const override { return "thread"; }
  int priority() const override { return 0; }
  std::vector<StartMethod> start_methods() const override {
    return {StartMethod{.name = "thread", .runs_closures = true}};
  }
  const Capabilities& capabilities() const override { return capabilities_; }

  int64_t HostPid() const override { return kMainSyntheticPid; }

  absl::Status SecureRandom(gsl::span<char> out) override {
    try {
      std::random_device device;  // the OS's secure source on Linux and Windows
      for (char& byte : out) byte = static_cast<char>(device());
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("no secure random source: ", e.what()));
    }
    return absl::OkStatus();
  }

  // OpenSSL's libcrypto loaded on first use; BCrypt on Windows.
  absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
      absl::string_view key, absl::string_view message) override {
    return thread::HmacSha256(key, message);
  }

  absl::StatusOr<std::shared_ptr<SharedMemory>> CreateSharedMemory(
      size_t size) override {
    return CreateThreadSharedMemory(size);
  }

  absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateOsSemaphore(
      uint32_t initial) override {
    return CreateThreadSemaphore(initial);
  }

  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ChannelPair()
      override {
    return CreateThreadChannelPair();
  }

  absl::StatusOr<Ready> WaitReady(gsl::span<ChannelEnd* const> ends,
                                  gsl::span<Child* const> children,
                                  absl::Time deadline) override {
    return ThreadWaitReady(ends, children, deadline);
  }

  // The main process lives as long as the program; a child until its
  // RunChild returns.
  bool IsProcessAlive(int64_t pid) override {
    return pid == kMainSyntheticPid || IsThreadChildRunning(pid);
  }

  absl::StatusOr<std::unique_ptr<Child>> Launch(
      const LaunchRequest& request) override {
    return LaunchThreadChild(this, request, next_pid_.fetch_add(1));
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen() override {
    return ListenInMemory();
  }

  absl::StatusOr<std::unique_ptr<Channel>> Connect(
      absl::string_view address) override {
    return ConnectInMemory(address);
  }

 private:
  Capabilities capabilities_;
  std::atomic<int64_t> next_pid_{kMainSyntheticPid + 1};
};

}  // namespace
}  // namespace mproc::thread

MPROC_REGISTER_BACKEND(mproc::thread::ThreadBackend);
