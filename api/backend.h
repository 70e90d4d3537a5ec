// -----------------------------------------------------------------------------
// File: api/backend.h
// -----------------------------------------------------------------------------
//
// THE PORTING INTERFACE. Everything mproc needs from an operating system, and
// nothing more. A new backend implements `Backend`, `Child`, `Listener`,
// `Channel`, `SharedMemory`, `OsSemaphore` and `ChannelEnd`
// (api/shared_object.h) in
// `backends/<name>/`, registers itself with
// MPROC_REGISTER_BACKEND, and instantiates the conformance suite with one line
// (tests/conformance/conformance.h). It is done when that suite is green.
//
// What a backend does NOT do: check lifecycle rules (start twice, join before
// start, the daemon rule, names, timeouts, ...), pick names, map exit codes,
// print target errors, or run exit-time rules. `api/` has done all of that
// before it calls the backend, and does the child side in `RunChild`. A
// backend only does what only the OS can do:
//
//   1. start a child that calls `RunChild(request, runtime)` and ends with the
//      ExitStatus it returns (`Backend::Launch`); a backend that re-executes
//      the program sends `EncodeLaunchRequest(request)` to the child, and
//      decodes it in `Backend::RunChildIfRequested`;
//   2. wait for a child with a deadline, reap it, and report its ExitStatus
//      (`Child::Wait`), and end it (`Child::Terminate`, `Child::Kill`);
//   3. carry Manager frames: a listener at an address (`Backend::Listen`)
//      and byte streams to it (`Backend::Connect`, `Channel`);
//   4. tell this process's pid, produce secure random bytes, compute
//      HMAC-SHA256 (from a well-kept library: never hand-written crypto),
//      and keep a Manager server's secrets from other processes;
//   5. shared state (docs/design.md, "Shared state"): create shared memory
//      (`Backend::CreateSharedMemory`) and counting semaphores
//      (`Backend::CreateOsSemaphore`), tell whether a process is still alive
//      (`Backend::IsProcessAlive`), and hand the objects in
//      `LaunchRequest::handovers` to the child (fork: keep them; re-execute:
//      pass the OS objects and rebuild them there, in the same order, into
//      `ChildRuntime::handovers`; shared memory: pass them as they are).
//      Everything else (locks, events, conditions, barriers, values) is
//      built once in api/ from these.
//   6. message passing (docs/design.md, "Message passing"): connected pairs
//      of byte streams (`Backend::ChannelPair`, `ChannelEnd`), handed to
//      children exactly as the shared-state objects are, and one wait over
//      several ends and children at once (`Backend::WaitReady`). Pipe,
//      Connection and Wait are built once in api/ from these.
//
// A backend whose start method forks also follows api/fork_safety.h. Around
// each fork, in this order: hold mproc's fork locks (`PrepareFork`) and the
// backend's own process-wide locks that the child may take; make "create a
// descriptor + record it" and "forget + close it" exclusive with fork;
// flush stdio (`std::fflush(nullptr)`: or the child writes the parent's
// buffered output a second time). In the child, first: `AfterForkInChild`,
// reset the backend's own locks (`ResetMutexInForkedChild`), and close every
// descriptor/handle of the parent's that the child must not hold: its other
// children's handles, Manager connections and listeners, the parent's end
// of other children's pipes (docs/design.md §5, "descriptors"); keep only
// the standard streams, the request's listener and its handovers. A backend
// that creates processes without fork (CreateProcess, posix_spawn of the
// program) passes only those, and flushes nothing.
//
// The child's end. `RunChild` returns an ExitStatus; the backend ends the
// child with it: `Exited(code)` with `_exit(code)` (0..255 as a parent's
// Wait will report it); `Signaled(n)` — returned only for a child that runs
// with a cancellation flag (`ChildRuntime::cancellation`) which Terminate
// or Kill set — by dying *of* that signal as the OS knows it (POSIX: restore
// SIG_DFL for it, unblock it, raise it, and `_exit(128 + n)` only should
// that return), so that the parent's Wait reports `Signaled(n)` and
// exitcode `-n`. An OS without signals maps them to exit codes and back
// (`ExitStatus::FromWindowsExitCode`).
//
// Parent death (docs/design.md §4): a child with
// `ChildIdentity::kill_on_parent_death` ends within 1 s when its parent
// dies abnormally, whichever of the parent's threads started it; a thread
// of the parent ending must not end it. Where the OS has no such facility
// (Linux: PR_SET_PDEATHSIG, tied to the starting *thread*; Windows: a
// kill-on-close Job), use a lifeline: a pipe whose write end only the parent
// holds, watched by the child, which exits when it reads end-of-file.
//
// Resources. A backend leaves nothing behind, and its conformance test file
// proves it with a probe that counts its children (zombies included) and its
// open descriptors/handles. Where the OS has no /proc, count children from
// the backend's own table (plus `waitpid(WNOHANG)` to see zombies) and
// descriptors with `fcntl(fd, F_GETFD)` over `0..getdtablesize()` (or the
// OS's own call: proc_pidinfo, GetProcessHandleCount, kinfo_getfile).
//
// Errors: return absl::Status at the edge, keeping the code the OS error maps
// to (absl::ErrnoToStatus on POSIX: EAGAIN -> kUnavailable, EMFILE ->
// kResourceExhausted, ...), with the call's name and what to do in the
// message. A backend never crashes on an OS refusal and leaves nothing
// half-started (no zombie, no open descriptor or handle).

#ifndef MPROC_API_BACKEND_H_
#define MPROC_API_BACKEND_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/cancellation.h"
#include "api/exit_status.h"
#include "api/shared_object.h"
#include "api/target.h"
#include "gsl/span"

namespace mproc {

class Backend;

// The size of an HMAC-SHA256 (Backend::HmacSha256).
inline constexpr size_t kHmacSha256Size = 32;

// One thing a backend cannot do, and why. `supported` false always comes with
// a one-line `reason`; conformance tests that need it skip with that reason.
struct Capability {
  bool supported = true;
  std::string reason;
};

// What a backend's OS truly cannot do. One source: the conformance suite
// reads these and nothing else to decide skips.
struct Capabilities {
  // A child's writes to memory are invisible to its parent.
  Capability memory_isolation;
  // Terminate/Kill end a child even in a loop that never reaches a
  // cancellation point.
  Capability preemptive_termination;
  // A child has its own descriptor/handle table and standard streams.
  Capability separate_descriptors;
};

// A way this backend starts children ("fork", "spawn", "thread", ...).
struct StartMethod {
  std::string name;
  // True when a child starts with a copy of (or a share in) the parent's
  // memory, so closures and unregistered functions can run in it.
  bool runs_closures = false;
};

// Who a child is: decided by api/ before Launch, installed by RunChild.
struct ChildIdentity {
  std::string name;           // "Process-1:2", or the user's name
  std::vector<int> identity;  // {1, 2} for Process-1:2
  bool daemon = false;
  // End the child when its parent dies abnormally (docs/design.md §4).
  bool kill_on_parent_death = false;
  int64_t parent_pid = 0;
  std::string parent_name;
};

class Listener;

// Everything a backend needs to start one child.
struct LaunchRequest {
  ChildIdentity child;
  std::string start_method;  // one of Backend::start_methods()
  TargetCall target;
  // Set for a Manager server: the listener (from this backend's Listen) the
  // child serves on. A backend that shares memory passes it through
  // ChildRuntime::listener as is; one that re-executes hands the OS object
  // (descriptor, handle) to the child and rebuilds a Listener there.
  std::shared_ptr<Listener> listener;
  // The OS objects the target's arguments carry, in the order their Codecs
  // recorded them (the target's handover table). The backend hands each to
  // the child and rebuilds them there in the same order
  // (ChildRuntime::handovers); a backend that shares memory passes them as
  // they are. `kInvalidArgument` from Launch for an object another backend
  // made.
  std::vector<std::shared_ptr<SharedObject>> handovers;
};

// Serialises `request` for a child that is re-executed (all but `listener`
// and `handovers`, which the backend hands over itself). `kInvalidArgument`
// when the target is not registered (a closure cannot cross an exec).
[[nodiscard]] absl::StatusOr<std::string> EncodeLaunchRequest(
    const LaunchRequest& request);
// The inverse, in the child. `kInvalidArgument` on malformed input.
[[nodiscard]] absl::StatusOr<LaunchRequest> DecodeLaunchRequest(
    absl::string_view bytes);

// How the child side runs, as the backend knows it.
struct ChildRuntime {
  // The child's pid (getpid() in a real process, a synthetic id otherwise).
  int64_t pid = 0;
  // The backend that launched this child (used for GetContext() in it).
  Backend* backend = nullptr;
  // For cooperative backends: the flag Terminate/Kill set. Null in a real
  // OS process.
  std::shared_ptr<CancellationFlag> cancellation;
  // True in a real OS process: the child's identity replaces the process's
  // own (after fork, or in a re-executed program). False for a child that
  // shares its process (a thread): the identity is per thread.
  bool owns_process = true;
  // The listener handed over by LaunchRequest::listener, if any.
  std::shared_ptr<Listener> listener;
  // LaunchRequest::handovers as this child holds them, same order.
  std::vector<std::shared_ptr<SharedObject>> handovers;
};

// The child side, shared by every backend: installs the child's identity,
// runs the target (printing `Process <name>:` and the error on stderr when it
// fails or throws), applies the exit-time rules (shut down its Managers,
// terminate then join daemon children, join the others), flushes stdout,
// stderr and Manager connections, and returns how the child ended. The
// backend then ends the child with that status (`_exit(code)` for a process).
ExitStatus RunChild(const LaunchRequest& request, const ChildRuntime& runtime);

// Child
//
// One started child. Implementations must allow `Wait`, `Terminate` and
// `Kill` to be called concurrently from different threads. The destructor
// never leaves a zombie or an open handle: it releases OS resources of an
// ended child, and for a child still running it lets it run on (api/ reaps
// children before it destroys them; exit-time rules join the rest) and
// reaps it later itself (the posix backend: at its next Launch). Whatever
// ties the child's life to this process (a lifeline pipe's write end, a Job
// handle) is not the handle's: destroying the Child neither ends the child
// nor releases its lifeline, which lives until the child is reaped or this
// process ends.
class Child {
 public:
  virtual ~Child() = default;

  // The child's pid (or synthetic id); unique among live children.
  virtual int64_t pid() const = 0;

  // Waits until the child has ended or `deadline` passes
  // (absl::InfinitePast() polls, absl::InfiniteFuture() waits for ever).
  // Returns its ExitStatus once it has ended (reaping it; later calls return
  // the same status), std::nullopt if it is still running at the deadline,
  // or an error when the OS refuses to wait.
  [[nodiscard]] virtual absl::StatusOr<std::optional<ExitStatus>> Wait(
      absl::Time deadline) = 0;

  // Asks the child to end as by SIGTERM (exitcode -15). OK and no effect
  // when it has already ended; never signals another process.
  [[nodiscard]] virtual absl::Status Terminate() = 0;
  // Ends the child as by SIGKILL (exitcode -9). Same contract as Terminate.
  [[nodiscard]] virtual absl::Status Kill() = 0;

 protected:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
};

// Channel
//
// One connected, reliable, ordered byte stream (a Unix socket, a named pipe,
// an in-memory pipe). One reader and one writer at a time; `Close` may be
// called from any thread at any time.
class Channel {
 public:
  virtual ~Channel() = default;
  // Writes all of `bytes`. `kUnavailable` when the peer has gone.
  [[nodiscard]] virtual absl::Status WriteAll(absl::string_view bytes) = 0;
  // Reads at least one byte into `buffer` (not empty) and returns how many;
  // 0 when the peer closed its end (or this end was closed). Waits at most
  // until `deadline` (absl::InfiniteFuture(): for ever), then returns
  // `kDeadlineExceeded` having read nothing; the Manager server bounds its
  // handshakes with it. A cooperative backend returns `kCancelled` when the
  // calling child is cancelled (see api/cancellation.h: its blocking waits
  // hold a CancellationWake, so a request wakes them).
  [[nodiscard]] virtual absl::StatusOr<size_t> ReadSomeUntil(
      gsl::span<char> buffer, absl::Time deadline) = 0;
  // ReadSomeUntil without a deadline.
  [[nodiscard]] absl::StatusOr<size_t> ReadSome(gsl::span<char> buffer) {
    return ReadSomeUntil(buffer, absl::InfiniteFuture());
  }
  // Closes this end and wakes a blocked ReadSome (which then returns 0 or an
  // error). Idempotent.
  virtual void Close() = 0;

 protected:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
};

// Listener
//
// The Manager server's end: accepts Channels from clients that Connect to
// `address()`. Listening has begun when Listen returns, so a client may
// connect before the server calls Accept.
class Listener {
 public:
  virtual ~Listener() = default;
  // An address `Backend::Connect` understands, in any process of this
  // program's family. Printable.
  //
  // Who removes it: the process that called Listen, when its Listener is
  // destroyed (a Manager's owner, at Shutdown) — never the server child,
  // which holds a handed-over copy and must leave it in place. An address
  // that outlives a creator killed by SIGKILL (a socket file, a directory)
  // is removed by the next Listen of the same user, once nothing answers
  // there; prefer addresses the OS removes with their last holder (Linux
  // abstract sockets, Windows named pipes).
  virtual std::string address() const = 0;
  // Waits for the next client.
  //
  // Errors, and what the server does with them:
  // - `kCancelled`: final. Close has been called (or the calling child is
  //   cancelled, on a cooperative backend); the server stops. Only this
  //   code may stop it.
  // - `kResourceExhausted` / `kUnavailable` (no descriptor, handle, memory
  //   or buffer left: EMFILE, ENFILE, ENOMEM, ENOBUFS, ...): transient. The
  //   server logs it once, backs off (1 ms doubling to 100 ms) and calls
  //   Accept again; so does it for any other code. A backend must not spin
  //   on a pending client it cannot take: when it is out of descriptors, it
  //   should accept that client into a descriptor kept in reserve and close
  //   it (the client sees its connection closed), then report the error.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Channel>> Accept() = 0;
  // Stops listening and wakes a blocked Accept. Idempotent, thread-safe.
  virtual void Close() = 0;

 protected:
  Listener() = default;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
};

// Backend
//
// One way of running children. A registered backend lives for the whole
// program; its methods are thread-safe.
class Backend {
 public:
  virtual ~Backend() = default;

  // "posix", "windows", "thread": the part of a context name before ':'.
  virtual absl::string_view name() const = 0;
  // The default context is the registered backend with the highest priority
  // (ties: the first registered). The scale: 0 for a simulation without
  // real processes (thread), 100 for a backend of real OS processes (posix,
  // windows); values in between for a backend that is complete but
  // should not be the default.
  virtual int priority() const = 0;
  // The start methods; the first is this backend's default.
  virtual std::vector<StartMethod> start_methods() const = 0;
  virtual const Capabilities& capabilities() const = 0;

  // The platform's name of signal `signal` ("SIGSEGV"), for reprs and
  // messages (exitcode -n prints as "-SIGSEGV"); empty when it has none.
  // Signal numbers differ between systems (SIGBUS is 7 on Linux, 10 on the
  // BSDs and macOS): a POSIX backend names them from its own <signal.h>.
  // Default: names only kTerminateSignal and kKillSignal.
  virtual std::string SignalName(int signal) const;

  // The pid of the OS process this code runs in (a backend without processes
  // returns a fixed synthetic id).
  virtual int64_t HostPid() const = 0;
  // Fills `out` from the OS's secure random source (never a seeded PRNG).
  [[nodiscard]] virtual absl::Status SecureRandom(gsl::span<char> out) = 0;

  // HMAC-SHA256 of `message` under `key` (RFC 2104), for the Manager's
  // challenge-response handshake. Use a well-kept implementation (OpenSSL's
  // libcrypto on Linux, BCrypt on Windows), never hand-written crypto.
  // Errors: `kInternal` / `kUnavailable` when the library fails.
  [[nodiscard]] virtual absl::StatusOr<std::array<char, kHmacSha256Size>>
  HmacSha256(absl::string_view key, absl::string_view message) = 0;

  // Called by a Manager server process before it serves: keeps its memory
  // (which holds the authkey) from other processes of the same user, as far
  // as the OS allows (Linux: prctl(PR_SET_DUMPABLE, 0), so no ptrace, no
  // /proc/<pid>/mem, no core dump). Default: OK, nothing done (a backend
  // whose children share one process has nothing to protect them from).
  // Errors: the OS call's.
  [[nodiscard]] virtual absl::Status ProtectProcessSecrets();

  // A new SharedMemory of `size` (> 0) zero-filled bytes. Errors: the OS's
  // (ENOMEM, EMFILE -> kResourceExhausted), with what to do.
  [[nodiscard]] virtual absl::StatusOr<std::shared_ptr<SharedMemory>>
  CreateSharedMemory(size_t size) = 0;

  // A new OsSemaphore whose count starts at `initial`. Errors: the OS's.
  [[nodiscard]] virtual absl::StatusOr<std::shared_ptr<OsSemaphore>>
  CreateOsSemaphore(uint32_t initial) = 0;

  // A new connected pair of channel ends (api/shared_object.h ChannelEnd):
  // what one end writes, the other reads, in order, in both directions.
  // posix: socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC), writes with
  // MSG_NOSIGNAL; windows: a named pipe of a fresh random name with exactly
  // one instance, overlapped, and its client end; thread: two in-memory
  // pipes. Errors: the OS's (out of descriptors or handles:
  // kResourceExhausted), with what to do.
  [[nodiscard]] virtual absl::StatusOr<
      std::array<std::shared_ptr<ChannelEnd>, 2>>
  ChannelPair() = 0;

  // The positions of the ready objects of a WaitReady call, ascending.
  struct Ready {
    std::vector<size_t> ends;
    std::vector<size_t> children;
  };

  // Waits until at least one of `ends` is readable (it holds bytes, or it is
  // at end-of-stream: a ReadSomeUntil would not wait) or one of `children`
  // (this backend's, from Launch; reaped or not) has ended, or `deadline`
  // passes (absl::InfinitePast(): only look). Reads nothing and reaps
  // nothing a later Child::Wait would miss. Returns every object ready when
  // it returns; both lists empty at the deadline. For api/'s Wait
  // (multiprocessing.connection.wait) and Connection::Poll. posix: one
  // poll() over the ends' sockets and the children's pidfds (fork server
  // children: their status channels); windows: WaitForMultipleObjects over
  // zero-byte overlapped reads and process handles (at most 63 objects);
  // thread: a condition every write, close and child end signals.
  // Errors: `kInvalidArgument` for an object another backend made (or, on
  // windows, more than 63 objects); `kFailedPrecondition` for an end this
  // process does not hold (as ChannelEnd::WriteAll); `kCancelled` on a
  // cooperative backend when the calling child is cancelled; the OS's.
  [[nodiscard]] virtual absl::StatusOr<Ready> WaitReady(
      gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
      absl::Time deadline) = 0;

  // False when the process (or thread-backend child) `pid` has ended, even
  // if it is not reaped yet; true while it runs, and when the OS will not
  // say (no permission). For a lock whose holder died (api/lock.h). A pid
  // reused by a new process counts as alive.
  virtual bool IsProcessAlive(int64_t pid) = 0;

  // Starts a child for `request` (start method already validated) that runs
  // `RunChild(request, ...)`. On error nothing is left behind.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Child>> Launch(
      const LaunchRequest& request) = 0;

  // Opens a Manager listener at a fresh private address.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Listener>> Listen() = 0;
  // Connects to a listener's address. `kUnavailable` when nobody listens.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Channel>> Connect(
      absl::string_view address) = 0;

  // In a program re-executed by this backend (the command line says so):
  // runs the child and exits. Otherwise returns. Default: returns.
  //
  // `mproc::RunChildIfRequested(argc, argv)` calls it on every registered
  // backend, first thing in every program that links mproc, with that
  // program's real, unchanged argv: the user's own flags, anything. Look
  // only for your own marker (the posix backend: an argument
  // `--mproc-child=<fd>` or `--mproc-forkserver=<fd>` at argv[1]), change
  // nothing, and return at once when it is not there. argv[0] is the
  // program as the OS started it: where the OS has no call that names the
  // running program (Linux: /proc/self/exe), a backend that re-executes it
  // may keep argv[0] from here (resolved against the working directory and
  // PATH, as the shell did).
  virtual void RunChildIfRequested(int argc, char** argv);

 protected:
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
};

// Adds `backend` to the program's registry; returns true (for static
// initialisers). Use MPROC_REGISTER_BACKEND.
bool RegisterBackend(std::unique_ptr<Backend> backend);

// The registered backend called `name`, or nullptr.
Backend* FindBackend(absl::string_view name);

// Every registered backend, highest priority first.
std::vector<Backend*> RegisteredBackends();

}  // namespace mproc

// MPROC_REGISTER_BACKEND(BackendClass)
//
// Registers one default-constructed BackendClass. Put it in the backend's .cc,
// which must be linked whole (CMake: mproc_add_backend makes an OBJECT
// library).
#define MPROC_REGISTER_BACKEND(BackendClass)                \
  [[maybe_unused]] static const bool MPROC_INTERNAL_CONCAT( \
      mproc_backend_registered_, __LINE__) =                \
      ::mproc::RegisterBackend(std::make_unique<BackendClass>())

#endif  // MPROC_API_BACKEND_H_
