// -----------------------------------------------------------------------------
// File: backends/thread/lazy_crypto.h
// -----------------------------------------------------------------------------
//
// HMAC-SHA256 for the thread backend. Linux: OpenSSL's libcrypto, loaded on
// first use (dlopen; lazy_crypto.cc): a program pays for loading libcrypto
// (about 2 ms per exec on a small VM) only once it runs a Manager handshake,
// not at every start of a child. Windows: BCrypt (bcrypt_crypto.cc).

#ifndef MPROC_BACKENDS_THREAD_LAZY_CRYPTO_H_
#define MPROC_BACKENDS_THREAD_LAZY_CRYPTO_H_

#include <array>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"

namespace mproc::thread {

// HMAC-SHA256 of `message` under `key`. `kUnavailable` when libcrypto
// cannot be loaded (install it: Debian package libssl3) or BCrypt has no
// SHA-256 provider, `kInternal` when the computation fails.
[[nodiscard]] absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
    absl::string_view key, absl::string_view message);

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_LAZY_CRYPTO_H_
