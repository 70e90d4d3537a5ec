// HMAC-SHA256 from libcrypto, loaded on first use.
#include "backends/posix/posix_crypto.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace mproc::posix {
namespace {

struct Crypto {
  decltype(&::HMAC) hmac = nullptr;
  decltype(&::EVP_sha256) sha256 = nullptr;
  std::string error;  // why it could not be loaded
};

const Crypto& LoadCrypto() {
  static const Crypto* const crypto = [] {
    auto* loaded = new Crypto;  // never destroyed, nor is the library closed
    void* library = dlopen(MPROC_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* error = dlerror();
      loaded->error = error == nullptr ? "dlopen failed" : error;
      return loaded;
    }
    loaded->hmac = reinterpret_cast<decltype(&::HMAC)>(dlsym(library, "HMAC"));
    loaded->sha256 =
        reinterpret_cast<decltype(&::EVP_sha256)>(dlsym(library, "EVP_sha256"));
    if (loaded->hmac == nullptr || loaded->sha256 == nullptr) {
      loaded->error = "HMAC or EVP_sha256 missing";
    }
    return loaded;
  }();
  return *crypto;
}

}  // namespace

absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
    absl::string_view key, absl::string_view message) {
  const Crypto& crypto = LoadCrypto();
  if (!crypto.error.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot load OpenSSL's libcrypto (", MPROC_LIBCRYPTO_SONAME,
        "): ", crypto.error, "; install it (Debian: libssl3)"));
  }
  std::array<char, kHmacSha256Size> mac;
  unsigned int size = 0;
  if (crypto.hmac(crypto.sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(message.data()),
                  message.size(), reinterpret_cast<unsigned char*>(mac.data()),
                  &size) == nullptr ||
      size != mac.size()) {
    return absl::InternalError(
        "OpenSSL's HMAC-SHA256 failed; check the libcrypto installation");
  }
  return mac;
}

}  // namespace mproc::posix
