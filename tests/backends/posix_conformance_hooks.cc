#include "tests/backends/posix_conformance_hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/target.h"
#include "backends/posix/unix_socket_transport.h"
#include "tests/backends/posix_probe.h"
#include "tests/backends/posix_test_util.h"

namespace mproc::testing {
namespace {

// Linux: a process is alive while /proc/<pid>/stat exists and its state is
// not zombie ('Z') or dead ('X').
bool IsPidAlive(int64_t pid) {
  const std::optional<char> state = ProcessStateOf(pid);
  return state.has_value() && *state != 'Z' && *state != 'X';
}

void KillPid(int64_t pid) { (void)kill(static_cast<pid_t>(pid), SIGKILL); }

// In the child: the pidfds and sockets it holds (only mproc opens those in a
// test binary), which the contract forbids a child to inherit.
int CountInheritedPidfdsAndSockets() { return CountPidfdsAndSockets(); }
MPROC_REGISTER_TARGET(CountInheritedPidfdsAndSockets);

int64_t OsThreadId() { return static_cast<int64_t>(syscall(SYS_gettid)); }

bool IsOsThreadAlive(int64_t tid) {
  std::error_code error;
  return std::filesystem::exists(absl::StrCat("/proc/self/task/", tid), error);
}

// What a Manager owner killed by SIGKILL leaves with filesystem sockets (the
// portable path): a private directory holding a socket nothing listens on,
// here two minutes old. Listen uses filesystem sockets while it is kept.
struct StaleSocketDirectory {
  posix::ScopedFilesystemSocketsForTesting filesystem_sockets;
  std::string directory;
  ~StaleSocketDirectory() {
    std::error_code error;
    std::filesystem::remove_all(directory, error);  // if the test failed
  }
};

conformance::StaleAddress LeaveStaleSocketDirectory() {
  auto stale = std::make_shared<StaleSocketDirectory>();
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp", "/mproc-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return {};
  stale->directory = pattern;
  const std::string socket_path = pattern + "/manager.sock";
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    close(fd);
    return {};
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  // Bound, never listened on, closed without unlink: as a killed owner
  // leaves it.
  const int bound =
      bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  close(fd);
  if (bound != 0) return {};
  timespec times[2];
  if (clock_gettime(CLOCK_REALTIME, &times[0]) != 0) return {};
  times[0].tv_sec -= 120;
  times[1] = times[0];
  if (utimensat(AT_FDCWD, socket_path.c_str(), times, AT_SYMLINK_NOFOLLOW) !=
      0) {
    return {};
  }
  return {.still_there =
              [directory = stale->directory] {
                std::error_code error;
                return std::filesystem::exists(directory, error);
              },
          .scope = stale};
}

}  // namespace

conformance::BackendUnderTest PosixUnderTest(std::string label,
                                             std::string context) {
  return {.label = std::move(label),
          .context = std::move(context),
          .probe = &ProbePosixResources,
          .is_pid_alive = &IsPidAlive,
          .kill_pid = &KillPid,
          .forbidden_descriptor_census =
              [] { return Target(&CountInheritedPidfdsAndSockets); },
          .os_thread_id = &OsThreadId,
          .is_os_thread_alive = &IsOsThreadAlive,
          .leave_stale_address = &LeaveStaleSocketDirectory};
}

}  // namespace mproc::testing
