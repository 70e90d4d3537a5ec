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

absl::string_view ProcessStartAdvice(int error) {
  switch (error) {
    case EAGAIN:
      return "the process limit is reached: end some children, or raise the "
             "limit (ulimit -u)";
    case ENOMEM:
      return "too little memory: end some children or free memory";
    case EMFILE:
    case ENFILE:
      return "no descriptor is left: raise the descriptor limit (ulimit -n) "
             "or close descriptors";
    case EBADF:
      return "a descriptor mproc hands to the child was closed under it "
             "(another thread closed a descriptor it did not open?)";
    case ENOENT:
    case EACCES:
    case ENOEXEC:
    case ETXTBSY:
      return "cannot execute the program file again (moved, deleted, or not "
             "executable?); start it from its installed path, or use "
             "posix:fork";
    default:
      return "";
  }
}

}  // namespace mproc::posix
