// -----------------------------------------------------------------------------
// File: api/context.h
// -----------------------------------------------------------------------------
//
// A Context is a backend plus a start method ("thread", "posix:forkserver",
// "posix:fork", "posix:spawn", "windows"): the factory for Processes and
// Managers, as CPython's multiprocessing.get_context(). On Linux the default
// is "posix:forkserver" (as CPython 3.14's); "posix:fork" runs closures but is
// unsafe in threaded programs (a child can inherit a lock held by another
// thread, and hang).

#ifndef MPROC_API_CONTEXT_H_
#define MPROC_API_CONTEXT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "api/process.h"
#include "api/target.h"

namespace mproc {

class Manager;     // api/manager.h
class Connection;  // api/pipe.h

class Context {
 public:
  // "backend:start_method", e.g. "posix:fork"; "thread" for the thread backend.
  std::string name() const;
  Backend& backend() const { return *backend_; }
  const StartMethod& start_method() const { return start_method_; }
  const Capabilities& capabilities() const { return backend_->capabilities(); }

  // A new, unstarted Process running `target`. Takes the next default name of
  // the calling process (`Process-N`) even when `options.name` is set, as
  // CPython does. A bad `options.name` is reported by Start.
  Process NewProcess(TargetCall target, ProcessOptions options = {}) const;

  // Starts a Manager server process through this context (include
  // api/manager.h). Errors: those of Process::Start (the daemon rule among
  // them) and of the backend's Listen.
  [[nodiscard]] absl::StatusOr<Manager> StartManager() const;

  // A new Pipe whose ends can be handed to children of this context (include
  // api/pipe.h), as CPython's Pipe(duplex): with `duplex`, both ends send
  // and receive; without, the first only receives and the second only sends.
  // Errors: the backend's ChannelPair (out of descriptors or handles:
  // kResourceExhausted).
  [[nodiscard]] absl::StatusOr<std::pair<Connection, Connection>> Pipe(
      bool duplex = true) const;

  friend bool operator==(const Context& a, const Context& b) {
    return a.backend_ == b.backend_ &&
           a.start_method_.name == b.start_method_.name;
  }

 private:
  friend absl::StatusOr<Context> GetContext(absl::string_view name);
  Context(Backend* backend, StartMethod start_method)
      : backend_(backend), start_method_(std::move(start_method)) {}

  Backend* backend_;
  StartMethod start_method_;
};

// The context called `name`: "backend" (its default start method) or
// "backend:method". "" is the default: in a child, the context that started
// it; in the main process, the highest-priority backend's default method.
// Errors: `kNotFound` for an unknown name, listing the available ones.
[[nodiscard]] absl::StatusOr<Context> GetContext(absl::string_view name = "");

// Every valid context name, default first ("posix:forkserver", "posix:fork",
// "posix:spawn",
// "thread", ...).
std::vector<std::string> AvailableContexts();

}  // namespace mproc

#endif  // MPROC_API_CONTEXT_H_
