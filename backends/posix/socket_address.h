// POSIX only: Unix-domain socket addresses and fresh names for them.
#ifndef MPROC_BACKENDS_POSIX_SOCKET_ADDRESS_H_
#define MPROC_BACKENDS_POSIX_SOCKET_ADDRESS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace mproc::posix {

// Fills `out` with `path` (a file, or "@name" in Linux's abstract
// namespace) and returns the address's length; 0 when it does not fit.
socklen_t MakeUnixAddress(absl::string_view path, sockaddr_un& out);

// A fresh name "mproc-" + `length` random letters and digits (from
// getrandom; if the OS has no entropy yet, from the pid and the clocks, still
// unique enough as bind and mkdirat refuse a taken name).
std::string RandomSocketName(size_t length);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SOCKET_ADDRESS_H_
