// POSIX only: Manager socket directories (see socket_directory.h).
#include "backends/posix/socket_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/socket_address.h"
#include "gsl/util"

namespace mproc::posix {
namespace {

constexpr char kSocketFile[] = "manager.sock";

// A socket directory this old whose socket refuses connections is stale; a
// younger one may be between its bind and its listen.
constexpr std::time_t kStaleAfterSeconds = 60;

// True when nothing listens on the socket at `path` (ECONNREFUSED).
bool RefusesConnections(const std::string& path) {
  sockaddr_un address;
  const socklen_t length = MakeUnixAddress(path, address);
  if (length == 0) return false;
  Fd fd = Fd::Open([] {
    return SocketCloexec(AF_UNIX, SOCK_STREAM, /*non_blocking=*/true);
  });
  if (!fd.valid()) return false;
  const int connected = RetryOnEintr([&] {
    return connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                   length);
  });
  return connected != 0 && errno == ECONNREFUSED;
}

// Removes this user's socket directories in `base` (open as `base_fd`)
// whose creator died before it could remove them (a SIGKILLed Manager
// owner): the socket file is there, older than kStaleAfterSeconds, and
// refuses connections. Works through descriptors; removing a directory only
// removes an empty one, so nothing else is ever deleted.
void RemoveStaleSocketDirectories(int base_fd, const std::string& base) {
  const int listing_fd =
      openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return;
  DIR* listing = fdopendir(listing_fd);
  if (listing == nullptr) {
    CloseDescriptor(listing_fd);
    return;
  }
  const auto close_listing = gsl::finally([listing] { closedir(listing); });
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = readdir(listing)) {
    if (!absl::StartsWith(entry->d_name, "mproc-")) continue;
    struct stat info;
    if (fstatat(base_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(info.st_mode) || info.st_uid != geteuid()) {
      continue;
    }
    const int opened = openat(base_fd, entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (opened < 0) continue;
    const Fd directory(opened);
    if (fstatat(directory.get(), kSocketFile, &info, AT_SYMLINK_NOFOLLOW) !=
            0 ||
        !S_ISSOCK(info.st_mode) || now - info.st_mtime < kStaleAfterSeconds ||
        !RefusesConnections(
            absl::StrCat(base, "/", entry->d_name, "/", kSocketFile))) {
      continue;
    }
    (void)unlinkat(directory.get(), kSocketFile, 0);
    (void)unlinkat(base_fd, entry->d_name, AT_REMOVEDIR);
  }
}

// OK when `base` (described by `info`) is a directory no other user can
// tamper with: owned by us or root, and sticky if world-writable.
absl::Status CheckBaseIsSafe(const std::string& base, const struct stat& info,
                             bool from_tmpdir) {
  const std::string what = from_tmpdir
                               ? absl::StrCat("$TMPDIR (", base, ")")
                               : absl::StrCat(base, " (no $TMPDIR set)");
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is not a directory; set TMPDIR to a directory of yours"));
  }
  if (info.st_uid != geteuid() && info.st_uid != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " belongs to uid ", info.st_uid, ", neither this user (uid ",
        geteuid(),
        ") nor root, who could replace the Manager's socket directory; set "
        "TMPDIR to a directory of yours (mkdir -m 700 ~/tmp)"));
  }
  if ((info.st_mode & S_IWOTH) != 0 && (info.st_mode & S_ISVTX) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        " is world-writable without the sticky bit, so any user could remove "
        "or replace the Manager's socket directory; set the sticky bit "
        "(chmod +t, as /tmp has) or set TMPDIR to a private directory"));
  }
  return absl::OkStatus();
}

}  // namespace

SocketDirectory::SocketDirectory(Fd base, std::string name, Fd directory,
                                 std::string socket_path)
    : base_(std::move(base)),
      name_(std::move(name)),
      directory_(std::move(directory)),
      socket_path_(std::move(socket_path)),
      creator_(getpid()) {}

SocketDirectory::~SocketDirectory() {
  if (getpid() != creator_) return;
  (void)unlinkat(directory_.get(), kSocketFile, 0);  // absent if bind failed
  (void)unlinkat(base_.get(), name_.c_str(), AT_REMOVEDIR);
}

absl::StatusOr<std::shared_ptr<SocketDirectory>> MakeSocketDirectory() {
  std::string base = "/tmp";
  bool from_tmpdir = false;
  if (const char* tmpdir = std::getenv("TMPDIR");
      tmpdir != nullptr && tmpdir[0] == '/') {
    base = tmpdir;
    from_tmpdir = true;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    // "<base>/mproc-XXXXXX/manager.sock" must fit a socket address (with
    // its NUL): else /tmp.
    if (base.size() + std::strlen("/mproc-XXXXXX/") +
            std::strlen(kSocketFile) >=
        sizeof(sockaddr_un::sun_path)) {
      base = "/tmp";
      from_tmpdir = false;
    }
  }
  const int opened = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (opened < 0) {
    return ErrnoStatus(errno, absl::StrCat("open(", base, ")"),
                       "set TMPDIR to an existing directory of yours");
  }
  Fd base_fd(opened);
  struct stat info;
  if (fstat(base_fd.get(), &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fstat(", base, ")"), "");
  }
  if (absl::Status safe = CheckBaseIsSafe(base, info, from_tmpdir);
      !safe.ok()) {
    return safe;
  }
  RemoveStaleSocketDirectories(base_fd.get(), base);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = RandomSocketName(6);
    if (mkdirat(base_fd.get(), name.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return ErrnoStatus(errno, absl::StrCat("mkdir(", base, "/", name, ")"),
                         "make $TMPDIR (or /tmp) writable, or free space");
    }
    const int directory =
        openat(base_fd.get(), name.c_str(),
               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) {
      const int error = errno;
      (void)unlinkat(base_fd.get(), name.c_str(), AT_REMOVEDIR);
      return ErrnoStatus(error, absl::StrCat("open(", base, "/", name, ")"),
                         "raise the descriptor limit (ulimit -n) or close "
                         "descriptors");
    }
    std::string socket_path = absl::StrCat(base, "/", name, "/", kSocketFile);
    return std::make_shared<SocketDirectory>(std::move(base_fd),
                                             std::move(name), Fd(directory),
                                             std::move(socket_path));
  }
  return absl::AlreadyExistsError(
      absl::StrCat("no free directory name in ", base,
                   " after 100 attempts; clean up ", base, "/mproc-*"));
}

}  // namespace mproc::posix
