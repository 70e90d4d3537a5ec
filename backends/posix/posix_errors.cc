// POSIX only: errno to absl::Status.
#include "backends/posix/posix_errors.h"

#include "absl/strings/str_cat.h"

namespace mproc::posix {

absl::Status ErrnoStatus(int error, absl::string_view call,
                         absl::string_view what_to_do) {
  const absl::Status base = absl::ErrnoToStatus(error, call);
  if (what_to_do.empty()) return base;
  return absl::Status(base.code(),
                      absl::StrCat(base.message(), "; ", what_to_do));
}

}  // namespace mproc::posix
