// -----------------------------------------------------------------------------
// File: backends/posix/posix_crypto.h
// -----------------------------------------------------------------------------
//
// HMAC-SHA256 from OpenSSL's libcrypto, loaded on first use (dlopen): a
// program pays for loading libcrypto (about 2 ms per exec on a small VM)
// only once it runs a Manager handshake, not at every start of a child.

#ifndef MPROC_BACKENDS_POSIX_POSIX_CRYPTO_H_
#define MPROC_BACKENDS_POSIX_POSIX_CRYPTO_H_

#include <array>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"

namespace mproc::posix {

// HMAC-SHA256 of `message` under `key`. `kUnavailable` when libcrypto
// cannot be loaded (install it: Debian package libssl3), `kInternal` when it
// fails.
[[nodiscard]] absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
    absl::string_view key, absl::string_view message);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_CRYPTO_H_
