// POSIX only: the posix backend (Linux): start methods forkserver (the
// default), fork and spawn.
#include <signal.h>
#include <unistd.h>

#if MPROC_POSIX_HAVE_PR_SET_DUMPABLE
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "backends/posix/lifeline.h"
#include "backends/posix/posix_channel.h"
#include "backends/posix/posix_crypto.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_random.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/self_program.h"
#include "backends/posix/unix_socket_transport.h"

namespace mproc::posix {
namespace {

// The name this platform's <signal.h> gives `signal` ("SIGBUS" is 7 on
// Linux, 10 on the BSDs and macOS), or empty. The POSIX.1-2008 signals, and
// those a platform adds where it defines them.
std::string PlatformSignalName(int signal) {
  struct Named {
    int number;
    const char* name;
  };
#define MPROC_SIGNAL(name) \
  Named { name, #name }
  static constexpr Named kSignals[] = {
      MPROC_SIGNAL(SIGHUP),    MPROC_SIGNAL(SIGINT),  MPROC_SIGNAL(SIGQUIT),
      MPROC_SIGNAL(SIGILL),    MPROC_SIGNAL(SIGTRAP), MPROC_SIGNAL(SIGABRT),
      MPROC_SIGNAL(SIGBUS),    MPROC_SIGNAL(SIGFPE),  MPROC_SIGNAL(SIGKILL),
      MPROC_SIGNAL(SIGUSR1),   MPROC_SIGNAL(SIGSEGV), MPROC_SIGNAL(SIGUSR2),
      MPROC_SIGNAL(SIGPIPE),   MPROC_SIGNAL(SIGALRM), MPROC_SIGNAL(SIGTERM),
      MPROC_SIGNAL(SIGCHLD),   MPROC_SIGNAL(SIGCONT), MPROC_SIGNAL(SIGSTOP),
      MPROC_SIGNAL(SIGTSTP),   MPROC_SIGNAL(SIGTTIN), MPROC_SIGNAL(SIGTTOU),
      MPROC_SIGNAL(SIGURG),    MPROC_SIGNAL(SIGXCPU), MPROC_SIGNAL(SIGXFSZ),
      MPROC_SIGNAL(SIGVTALRM), MPROC_SIGNAL(SIGPROF), MPROC_SIGNAL(SIGSYS),
#ifdef SIGSTKFLT
      MPROC_SIGNAL(SIGSTKFLT),
#endif
#ifdef SIGWINCH
      MPROC_SIGNAL(SIGWINCH),
#endif
#ifdef SIGIO
      MPROC_SIGNAL(SIGIO),
#endif
#ifdef SIGPWR
      MPROC_SIGNAL(SIGPWR),
#endif
#ifdef SIGEMT
      MPROC_SIGNAL(SIGEMT),
#endif
#ifdef SIGINFO
      MPROC_SIGNAL(SIGINFO),
#endif
  };
#undef MPROC_SIGNAL
  for (const Named& named : kSignals) {
    if (named.number == signal) return named.name;
  }
  return "";
}

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

  std::string SignalName(int signal) const override {
    return PlatformSignalName(signal);
  }

  int64_t HostPid() const override { return getpid(); }

  absl::Status SecureRandom(gsl::span<char> out) override {
    return FillSecureRandom(out);
  }

  absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
      absl::string_view key, absl::string_view message) override {
    return posix::HmacSha256(key, message);
  }

  absl::Status ProtectProcessSecrets() override {
#if MPROC_POSIX_HAVE_PR_SET_DUMPABLE
    // No ptrace, /proc/<pid>/mem or core dump by the same uid.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
      return ErrnoStatus(errno, "prctl(PR_SET_DUMPABLE, 0)",
                         "cannot protect the Manager's authkey");
    }
#endif
    // Elsewhere no POSIX call does it (docs/design.md §5): the authkey is as
    // safe as the user's other processes are from each other.
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

  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ChannelPair()
      override {
    return CreatePosixChannelPair();
  }

  absl::StatusOr<Ready> WaitReady(gsl::span<ChannelEnd* const> ends,
                                  gsl::span<Child* const> children,
                                  absl::Time deadline) override {
    return PosixWaitReady(ends, children, deadline);
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
    if (argc > 0) RecordProgramArgv0(argv[0]);
    RunSpawnedChildIfRequested(this, argc, argv);
    RunForkServerIfRequested(this, argc, argv);
    // Not a child: made before any Start, so a test's descriptor count
    // never sees it appear.
    PrepareLifeline();
  }

 private:
  Capabilities capabilities_;
};

}  // namespace
}  // namespace mproc::posix

MPROC_REGISTER_BACKEND(mproc::posix::PosixBackend);
