#include "examples/example_context.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "api/target.h"

ABSL_FLAG(std::string, backend, "",
          "backend to run children on: thread, posix, windows (default: the "
          "best one built for this platform)");
ABSL_FLAG(std::string, start_method, "",
          "start method of the backend: for posix forkserver (the "
          "default), spawn, or fork (unsafe in threaded programs)");

namespace mproc::examples {

Context InitExample(int argc, char** argv) {
  RunChildIfRequested(argc, argv);
  absl::ParseCommandLine(argc, argv);
  std::string name = absl::GetFlag(FLAGS_backend);
  const std::string method = absl::GetFlag(FLAGS_start_method);
  if (!method.empty()) {
    if (name.empty()) {
      absl::StatusOr<Context> fallback = GetContext();
      if (fallback.ok()) name = std::string(fallback->backend().name());
    }
    absl::StrAppend(&name, ":", method);
  }
  absl::StatusOr<Context> context = GetContext(name);
  if (!context.ok()) {
    std::fprintf(stderr, "%s\n", context.status().ToString().c_str());
    std::exit(2);
  }
  return *context;
}

const char* PyBool(bool value) { return value ? "True" : "False"; }

}  // namespace mproc::examples
