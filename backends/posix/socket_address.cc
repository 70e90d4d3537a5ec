// POSIX only: Unix-domain socket addresses and fresh names for them.
#include "backends/posix/socket_address.h"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <vector>

#include "absl/time/time.h"
#include "api/fork_safety.h"
#include "backends/posix/posix_random.h"
#include "gsl/span"

namespace mproc::posix {

socklen_t MakeUnixAddress(absl::string_view path, sockaddr_un& out) {
  std::memset(&out, 0, sizeof(out));
  out.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(out.sun_path)) return 0;
  std::memcpy(out.sun_path, path.data(), path.size());
  if (path[0] != '@') return sizeof(out);
  // An abstract name is exactly its bytes after a leading NUL.
  out.sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
}

std::string RandomSocketName(size_t length) {
  static constexpr char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::vector<unsigned char> bytes(length);
  if (!FillSecureRandom(
           gsl::span<char>(reinterpret_cast<char*>(bytes.data()), bytes.size()),
           /*nonblocking=*/true)
           .ok()) {
    // No entropy yet: still unique enough, as mkdirat and bind refuse a
    // taken name.
    const uint64_t mixed =
        static_cast<uint64_t>(getpid()) * 0x9e3779b97f4a7c15u ^
        static_cast<uint64_t>(std::time(nullptr)) ^
        static_cast<uint64_t>(absl::ToUnixNanos(ForkSafeNow()));
    for (size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] ^= static_cast<unsigned char>(mixed >> (8 * (i % 8)));
    }
  }
  std::string name = "mproc-";
  for (unsigned char byte : bytes) name += kChars[byte % (sizeof(kChars) - 1)];
  return name;
}

}  // namespace mproc::posix
