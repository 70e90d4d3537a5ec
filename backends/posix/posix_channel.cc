// POSIX only: channel pairs over Unix-domain stream sockets
// (posix_channel.h).
#include "backends/posix/posix_channel.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/stream_io.h"

namespace mproc::posix {
namespace {

[[nodiscard]] absl::Status NotHeld() {
  return absl::FailedPreconditionError(
      "this process does not hold the channel end: it was closed here, or it "
      "reached this forked process inside a closure instead of as a target "
      "argument; pass it as an argument of a registered target");
}

// PosixChannelEnd
//
// One end of a socketpair. Close only closes this process's descriptor (a
// child handed the end keeps its own), so the peer sees end-of-stream once
// every holder has closed it.
class PosixChannelEnd final : public ChannelEnd, public PosixShared {
 public:
  explicit PosixChannelEnd(Fd fd) : fd_(std::move(fd)) {}

  absl::Status WriteAll(absl::string_view bytes) override {
    if (!fd_.owned_here()) return NotHeld();
    return SendAll(fd_.get(), bytes, "the channel");
  }

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    if (!fd_.owned_here()) return NotHeld();
    absl::StatusOr<size_t> n =
        RecvSomeUntil(fd_.get(), buffer, deadline, "the channel");
    // The peer closed with bytes of ours unread: it has gone all the same.
    if (absl::IsUnavailable(n.status())) return size_t{0};
    return n;
  }

  void Close() override { fd_.Reset(); }

  Kind kind() const override { return Kind::kChannel; }
  size_t size() const override { return 0; }
  int fd() const override { return fd_.owned_here() ? fd_.get() : -1; }
  void AdoptInForkedChild() override { fd_.Adopt(); }

 private:
  Fd fd_;
};

}  // namespace

absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreatePosixChannelPair() {
  std::array<Fd, 2> fds = Fd::OpenPair([](int pair[2]) {
    return SocketPairCloexec(AF_UNIX, SOCK_STREAM, pair);
  });
  if (!fds[0].valid()) {
    return ErrnoStatus(errno, "socketpair(AF_UNIX)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors (Close the Connections you are done with)");
  }
  return std::array<std::shared_ptr<ChannelEnd>, 2>{
      std::make_shared<PosixChannelEnd>(std::move(fds[0])),
      std::make_shared<PosixChannelEnd>(std::move(fds[1]))};
}

absl::StatusOr<std::shared_ptr<ChannelEnd>> AdoptPosixChannelEnd(int fd) {
  Fd owned(fd);
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "descriptor ", fd,
        " is not the channel socket the launch request names; parent and "
        "child must be the same build of the program"));
  }
  return std::make_shared<PosixChannelEnd>(std::move(owned));
}

}  // namespace mproc::posix
