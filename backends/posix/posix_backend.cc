// POSIX only: the posix backend (Linux): start methods forkserver (the
// default), fork and spawn.
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "backends/posix/posix_crypto.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/unix_socket_transport.h"

namespace mproc::posix {
namespace {

class PosixBackend final : public Backend {
 public:
  absl::string_view name() const override { return "posix"; }
  // Real processes beat the thread simulation as the default context.
  int priority() const override { return 100; }
  std::vector<StartMethod> start_methods() const override {
    // The first is the default: safe in threaded programs and flat in the
    // parent's size (docs/design.md). fork is unsafe in threaded programs.
    return {StartMethod{.name = "forkserver", .runs_closures = false},
            StartMethod{.name = "fork", .runs_closures = true},
            StartMethod{.name = "spawn", .runs_closures = false}};
  }
  // Real processes: every capability is supported.
  const Capabilities& capabilities() const override { return capabilities_; }

  int64_t HostPid() const override { return getpid(); }

  absl::Status SecureRandom(gsl::span<char> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "getrandom",
                           "the kernel's secure random source is unavailable");
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
      absl::string_view key, absl::string_view message) override {
    return posix::HmacSha256(key, message);
  }

  absl::Status ProtectProcessSecrets() override {
    // No ptrace, /proc/<pid>/mem or core dump by the same uid.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
      return ErrnoStatus(errno, "prctl(PR_SET_DUMPABLE, 0)",
                         "cannot protect the Manager's authkey");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::shared_ptr<SharedMemory>> CreateSharedMemory(
      size_t size) override {
    return CreatePosixSharedMemory(size);
  }

  absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateOsSemaphore(
      uint32_t initial) override {
    return CreatePosixSemaphore(initial);
  }

  bool IsProcessAlive(int64_t pid) override { return IsPosixProcessAlive(pid); }

  absl::StatusOr<std::unique_ptr<Child>> Launch(
      const LaunchRequest& request) override {
    if (request.start_method == "fork") return LaunchFork(this, request);
    if (request.start_method == "spawn") return LaunchSpawn(this, request);
    if (request.start_method == "forkserver") {
      return LaunchForkServer(this, request);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("posix has no start method '", request.start_method,
                     "'; use forkserver, fork or spawn"));
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen() override {
    return ListenUnix();
  }

  absl::StatusOr<std::unique_ptr<Channel>> Connect(
      absl::string_view address) override {
    return ConnectUnix(address);
  }

  void RunChildIfRequested(int argc, char** argv) override {
    RunSpawnedChildIfRequested(this, argc, argv);
    RunForkServerIfRequested(this, argc, argv);
  }

 private:
  Capabilities capabilities_;
};

}  // namespace
}  // namespace mproc::posix

MPROC_REGISTER_BACKEND(mproc::posix::PosixBackend);
