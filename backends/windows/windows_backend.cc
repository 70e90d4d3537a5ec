// Windows only: the windows backend: start method "spawn" (CreateProcessW of
// this program), named-pipe Manager transport, BCrypt.
#include "backends/windows/win32.h"
// windows.h (through win32.h) first: bcrypt.h needs its types.
#include <bcrypt.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/backend.h"
#include "backends/windows/pipe_transport.h"
#include "backends/windows/windows_channel.h"
#include "backends/windows/windows_launch.h"
#include "backends/windows/windows_shared.h"

namespace mproc::windows {
namespace {

class WindowsBackend final : public Backend {
 public:
  absl::string_view name() const override { return "windows"; }
  // Real processes beat the thread simulation as the default context.
  int priority() const override { return 100; }
  std::vector<StartMethod> start_methods() const override {
    return {StartMethod{.name = "spawn", .runs_closures = false}};
  }
  // Real processes: every capability is supported.
  const Capabilities& capabilities() const override { return capabilities_; }

  int64_t HostPid() const override { return GetCurrentProcessId(); }

  absl::Status SecureRandom(gsl::span<char> out) override {
    const NTSTATUS status = BCryptGenRandom(
        nullptr, reinterpret_cast<PUCHAR>(out.data()),
        static_cast<ULONG>(out.size()), BCRYPT_USE_SYSTEM_PREFERRED_RNG);
    if (status < 0) {
      return absl::UnavailableError(absl::StrFormat(
          "BCryptGenRandom failed with NTSTATUS 0x%08x; the system's secure "
          "random source is unavailable",
          static_cast<uint32_t>(status)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
      absl::string_view key, absl::string_view message) override {
    // Opening a provider is slow: one, on first use, never closed (it is
    // thread-safe).
    static NTSTATUS open_status = 0;
    static const BCRYPT_ALG_HANDLE provider = [] {
      BCRYPT_ALG_HANDLE handle = nullptr;
      open_status =
          BCryptOpenAlgorithmProvider(&handle, BCRYPT_SHA256_ALGORITHM, nullptr,
                                      BCRYPT_ALG_HANDLE_HMAC_FLAG);
      return open_status >= 0 ? handle : nullptr;
    }();
    if (provider == nullptr) {
      return absl::UnavailableError(absl::StrFormat(
          "BCryptOpenAlgorithmProvider(SHA256, HMAC) failed with NTSTATUS "
          "0x%08x; this Windows lacks the CNG SHA-256 provider",
          static_cast<uint32_t>(open_status)));
    }
    std::array<char, kHmacSha256Size> mac;
    const NTSTATUS status = BCryptHash(
        provider, reinterpret_cast<PUCHAR>(const_cast<char*>(key.data())),
        static_cast<ULONG>(key.size()),
        reinterpret_cast<PUCHAR>(const_cast<char*>(message.data())),
        static_cast<ULONG>(message.size()),
        reinterpret_cast<PUCHAR>(mac.data()), static_cast<ULONG>(mac.size()));
    if (status < 0) {
      return absl::InternalError(
          absl::StrFormat("BCryptHash(HMAC-SHA256) failed with NTSTATUS 0x%08x",
                          static_cast<uint32_t>(status)));
    }
    return mac;
  }

  absl::StatusOr<std::shared_ptr<SharedMemory>> CreateSharedMemory(
      size_t size) override {
    return CreateWindowsSharedMemory(size);
  }

  absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateOsSemaphore(
      uint32_t initial) override {
    return CreateWindowsSemaphore(initial);
  }

  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ChannelPair()
      override {
    return CreateWindowsChannelPair();
  }

  absl::StatusOr<Ready> WaitReady(gsl::span<ChannelEnd* const> ends,
                                  gsl::span<Child* const> children,
                                  absl::Time deadline) override {
    return WindowsWaitReady(ends, children, deadline);
  }

  bool IsProcessAlive(int64_t pid) override {
    return IsWindowsProcessAlive(pid);
  }

  absl::StatusOr<std::unique_ptr<Child>> Launch(
      const LaunchRequest& request) override {
    if (request.start_method != "spawn") {
      return absl::InvalidArgumentError(
          absl::StrCat("windows has no start method '", request.start_method,
                       "'; use spawn"));
    }
    return LaunchChild(this, request);
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen() override {
    return ListenPipe();
  }

  absl::StatusOr<std::unique_ptr<Channel>> Connect(
      absl::string_view address) override {
    return ConnectPipe(address);
  }

  void RunChildIfRequested(int argc, char** argv) override {
    RunWindowsChildIfRequested(this, argc, argv);
  }

 private:
  Capabilities capabilities_;
};

}  // namespace
}  // namespace mproc::windows

MPROC_REGISTER_BACKEND(mproc::windows::WindowsBackend);
