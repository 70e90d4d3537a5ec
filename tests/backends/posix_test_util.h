// -----------------------------------------------------------------------------
// File: tests/backends/posix_test_util.h
// -----------------------------------------------------------------------------
//
// POSIX only (Linux): small OS helpers for the posix-only tests. Waits take
// deadlines (poll on a pidfd, or yield between checks), never sleeps.

#ifndef MPROC_TESTS_BACKENDS_POSIX_TEST_UTIL_H_
#define MPROC_TESTS_BACKENDS_POSIX_TEST_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mproc::testing {

// A pidfd for `pid` (not necessarily our child), or -1 with errno set.
inline int OpenPidfdFor(int64_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
}

// Waits until the process behind `pidfd` has ended (run or zombie no more),
// or `timeout` passes; true when it ended.
inline bool WaitForProcessEnd(int pidfd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
    const int64_t ms =
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    const int polled =
        poll(&ended, 1, static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
    if (polled > 0) return true;
    if (polled < 0 && errno != EINTR) return false;
  }
}

// The text of /proc file `path`, or nullopt when it cannot be read. Plain
// read(2), no iostreams: a process can end between open and read (ESRCH),
// which std::ifstream turns into an exception.
inline std::optional<std::string> ReadProcFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      close(fd);
      return std::nullopt;
    }
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return text;
}

// The fields after the command name in a /proc/.../stat file (state first),
// or nullopt when the task is gone.
inline std::optional<std::string> StatFieldsOf(const std::string& stat_path) {
  const std::optional<std::string> text = ReadProcFile(stat_path);
  if (!text) return std::nullopt;
  const size_t paren = text->rfind(')');
  if (paren == std::string::npos || paren + 2 >= text->size()) {
    return std::nullopt;
  }
  return text->substr(paren + 2);
}

// The state letter of process `pid` ('R', 'S', 'Z', ...), or nullopt when
// it is gone.
inline std::optional<char> ProcessStateOf(int64_t pid) {
  const std::optional<std::string> fields =
      StatFieldsOf("/proc/" + std::to_string(pid) + "/stat");
  if (!fields) return std::nullopt;
  return (*fields)[0];
}

// The parent pid of `pid` from /proc/<pid>/stat, or nullopt when it is gone.
inline std::optional<int64_t> ParentPidOf(int64_t pid) {
  const std::optional<std::string> fields =
      StatFieldsOf("/proc/" + std::to_string(pid) + "/stat");
  if (!fields) return std::nullopt;
  std::istringstream rest(*fields);
  char state;
  int64_t ppid;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return ppid;
}

// How many of this process's open descriptors `matches(fd, link target)`
// accepts (the listing's own descriptor excluded).
inline int CountDescriptorsWhere(
    const std::function<bool(int, const std::string&)>& matches) {
  int count = 0;
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  for (; !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    std::error_code link_error;
    const std::string target =
        std::filesystem::read_symlink(it->path(), link_error).string();
    if (link_error) continue;
    // The listing's own descriptor.
    if (absl::StartsWith(target, "/proc/") && absl::EndsWith(target, "/fd")) {
      continue;
    }
    if (matches(std::stoi(it->path().filename().string()), target)) ++count;
  }
  return count;
}

// Descriptors that only mproc opens here: pidfds and sockets.
inline int CountPidfdsAndSockets() {
  return CountDescriptorsWhere([](int, const std::string& target) {
    return target == "anon_inode:[pidfd]" ||
           absl::StartsWith(target, "socket:");
  });
}

// Names a test instantiated over start methods ("posix:fork", "posix:spawn",
// "posix:forkserver"): "Fork", "Spawn" or "ForkServer".
inline std::string StartMethodName(absl::string_view context) {
  if (absl::EndsWith(context, "forkserver")) return "ForkServer";
  return absl::EndsWith(context, "fork") ? "Fork" : "Spawn";
}
inline std::string StartMethodTestName(
    const ::testing::TestParamInfo<std::string>& info) {
  return StartMethodName(info.param);
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_POSIX_TEST_UTIL_H_
