// Windows only: HMAC-SHA256 from BCrypt (a system library, always present).
#include <windows.h>
// windows.h first: bcrypt.h needs its types.
#include <bcrypt.h>

#include <cstdint>

#include "absl/strings/str_format.h"
#include "backends/thread/lazy_crypto.h"

namespace mproc::thread {
namespace {

// BCryptOpenAlgorithmProvider is slow; one provider, opened on first use and
// never closed (it is thread-safe).
BCRYPT_ALG_HANDLE HmacProvider(NTSTATUS& error) {
  static NTSTATUS open_status = 0;
  static const BCRYPT_ALG_HANDLE provider = [] {
    BCRYPT_ALG_HANDLE handle = nullptr;
    open_status = BCryptOpenAlgorithmProvider(
        &handle, BCRYPT_SHA256_ALGORITHM, nullptr, BCRYPT_ALG_HANDLE_HMAC_FLAG);
    return open_status >= 0 ? handle : nullptr;
  }();
  error = open_status;
  return provider;
}

}  // namespace

absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
    absl::string_view key, absl::string_view message) {
  NTSTATUS status = 0;
  BCRYPT_ALG_HANDLE provider = HmacProvider(status);
  if (provider == nullptr) {
    return absl::UnavailableError(absl::StrFormat(
        "BCryptOpenAlgorithmProvider(SHA256, HMAC) failed with NTSTATUS "
        "0x%08x; this Windows lacks the CNG SHA-256 provider",
        static_cast<uint32_t>(status)));
  }
  std::array<char, kHmacSha256Size> mac;
  status = BCryptHash(
      provider, reinterpret_cast<PUCHAR>(const_cast<char*>(key.data())),
      static_cast<ULONG>(key.size()),
      reinterpret_cast<PUCHAR>(const_cast<char*>(message.data())),
      static_cast<ULONG>(message.size()), reinterpret_cast<PUCHAR>(mac.data()),
      static_cast<ULONG>(mac.size()));
  if (status < 0) {
    return absl::InternalError(
        absl::StrFormat("BCryptHash(HMAC-SHA256) failed with NTSTATUS 0x%08x",
                        static_cast<uint32_t>(status)));
  }
  return mac;
}

}  // namespace mproc::thread
