// POSIX only: the private directory that holds a Manager socket on systems
// without abstract socket addresses (and in tests of that path on Linux).
#ifndef MPROC_BACKENDS_POSIX_SOCKET_DIRECTORY_H_
#define MPROC_BACKENDS_POSIX_SOCKET_DIRECTORY_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

// SocketDirectory
//
// A fresh private (0700) directory under $TMPDIR or /tmp for one listener's
// socket. Owns the directory through descriptors: its parent's (`base`) and
// its own, so removal never follows a path that may have changed since. Its
// destructor removes the socket and the directory, in the process that
// created them only (a forked copy never does).
class SocketDirectory {
 public:
  SocketDirectory(Fd base, std::string name, Fd directory,
                  std::string socket_path);
  SocketDirectory(const SocketDirectory&) = delete;
  SocketDirectory& operator=(const SocketDirectory&) = delete;
  ~SocketDirectory();

  // Where the listener binds its socket: "<base>/mproc-XXXXXX/manager.sock".
  const std::string& socket_path() const { return socket_path_; }

 private:
  const Fd base_;
  const std::string name_;
  const Fd directory_;
  const std::string socket_path_;
  const pid_t creator_;
};

// Makes a socket directory under $TMPDIR (absolute and short enough for a
// socket address) or /tmp, after removing this user's stale ones there (a
// directory whose creator was killed: its socket is a minute old and refuses
// connections). Errors: `kFailedPrecondition` when the base is unsafe (owned
// by another user than us or root, or world-writable without the sticky
// bit); those of open and mkdirat (EMFILE -> kResourceExhausted, ...);
// `kAlreadyExists` when no free name is found. On error nothing is left
// behind.
[[nodiscard]] absl::StatusOr<std::shared_ptr<SocketDirectory>>
MakeSocketDirectory();

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SOCKET_DIRECTORY_H_
