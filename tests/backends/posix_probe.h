// -----------------------------------------------------------------------------
// File: tests/backends/posix_probe.h
// -----------------------------------------------------------------------------
//
// POSIX only (Linux /proc): the posix backend's resource probe for the
// conformance suite and the posix-only tests.

#ifndef MPROC_TESTS_BACKENDS_POSIX_PROBE_H_
#define MPROC_TESTS_BACKENDS_POSIX_PROBE_H_

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "tests/conformance/conformance.h"

namespace mproc::testing {

// This process's children, running or zombie: the pids listed in
// /proc/self/task/<tid>/children for each of its threads.
inline std::vector<int64_t> ChildPids() {
  std::vector<int64_t> pids;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task", error)) {
    std::ifstream children(task.path() / "children");
    int64_t pid;
    while (children >> pid) pids.push_back(pid);
  }
  return pids;
}

inline int64_t CountChildProcesses() {
  return static_cast<int64_t>(ChildPids().size());
}

// This process's children that are posix:forkserver's fork server (it lives
// as long as this process once started): those whose command line carries
// the server's flag.
inline std::vector<int64_t> ForkServerPids() {
  std::vector<int64_t> servers;
  for (int64_t pid : ChildPids()) {
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    const std::string text((std::istreambuf_iterator<char>(cmdline)),
                           std::istreambuf_iterator<char>());
    if (text.find("--mproc-forkserver=") != std::string::npos) {
      servers.push_back(pid);
    }
  }
  return servers;
}

inline int64_t CountForkServers() {
  return static_cast<int64_t>(ForkServerPids().size());
}

// This process's open descriptors: the entries of /proc/self/fd, less the
// one the listing itself holds open.
inline int64_t CountOpenDescriptors() {
  int64_t count = 0;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    ++count;
  }
  return count - 1;
}

// Children (zombies included) and open descriptors of this process.
inline conformance::ResourceSnapshot ProbePosixResources() {
  return {.children = CountChildProcesses(),
          .descriptors = CountOpenDescriptors()};
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_POSIX_PROBE_H_
