#include "api/manager.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/cancellation.h"
#include "api/internal/lifecycle.h"
#include "api/internal/manager_server.h"
#include "api/internal/process_record.h"
#include "api/internal/process_state.h"

namespace mproc {
namespace internal {

absl::Status RunManagerServer(std::string authkey, int64_t max_connections,
                              int64_t handshake_timeout_ms) {
  std::shared_ptr<Listener> listener = CurrentState().TakeListener();
  Backend* backend = CurrentState().launcher();
  if (listener == nullptr || backend == nullptr) {
    return absl::InternalError(
        "the Manager server was launched without its listener");
  }
  // Before the server serves (and before it has used the key): keep the
  // authkey out of reach of other processes of the same user.
  if (absl::Status s = backend->ProtectProcessSecrets(); !s.ok()) {
    listener->Close();
    return s;
  }
  ServerOptions options;
  options.limits.max_connections = max_connections;
  options.limits.handshake_timeout = absl::Milliseconds(handshake_timeout_ms);
  absl::Status served = ServeManager(*listener, *backend, authkey, options);
  listener->Close();
  CancellationPoint();  // a terminated server ends as terminated
  return served;
}
MPROC_REGISTER_TARGET_AS("mproc.ManagerServer", &RunManagerServer);

// The process-side half of a running Manager: its server Process and
// endpoint. Shared by the Manager object and the exit-time rules.
class ManagerCore : public ExitShutdown {
 public:
  ManagerCore(Process server, std::shared_ptr<ManagerEndpoint> endpoint)
      : server_(std::move(server)),
        endpoint_(std::move(endpoint)),
        owner_pid_(CurrentState().pid()) {}

  absl::StatusOr<std::shared_ptr<ManagerEndpoint>> endpoint() {
    absl::MutexLock lock(&mu_);
    if (done_) {
      return absl::FailedPreconditionError(
          "the Manager has shut down; start a new one");
    }
    return endpoint_;
  }

  std::optional<int64_t> pid() {
    absl::MutexLock lock(&mu_);
    if (done_) return std::nullopt;
    return server_.pid();
  }

  std::string address() { return endpoint_->address; }

  absl::Status Shutdown();

  void ShutdownAtExit() override {
    if (absl::Status s = Shutdown(); !s.ok()) {
      WriteStderr(absl::StrCat(
          "mproc: shutting down a Manager at exit: ", s.ToString(), "\n"));
    }
  }

 private:
  // The server's exitcode as a repr prints it ("-SIGKILL").
  std::string ServerExitCode() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int code = server_.exitcode().value_or(0);
    const Backend* backend = FindBackend(endpoint_->backend);
    return ExitCodeToString(
        code, code < 0 && backend != nullptr ? backend->SignalName(-code) : "");
  }

  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  Process server_ ABSL_GUARDED_BY(mu_);
  const std::shared_ptr<ManagerEndpoint> endpoint_;
  const int64_t owner_pid_;
};

absl::Status ManagerCore::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (done_) return absl::OkStatus();
  if (CurrentState().pid() != owner_pid_) {
    return absl::FailedPreconditionError(
        "only the process that started a Manager may shut it down; let that "
        "process call Shutdown()");
  }
  done_ = true;
  // The server answers after every earlier write of ours, then stops.
  const absl::Status requested = CallShutdown(*endpoint_);
  endpoint_->shut_down.store(true, std::memory_order_release);
  DropConnection(*endpoint_);

  absl::Status joined = server_.Join(absl::Seconds(10));
  if (joined.ok() && server_.IsAlive()) {
    (void)server_.Terminate();
    joined = server_.Join(absl::Seconds(5));
    if (joined.ok() && server_.IsAlive()) {
      (void)server_.Kill();
      joined = server_.Join();
    }
  }
  CurrentState().RemoveManager(this);
  if (!joined.ok()) return joined;
  if (!requested.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the Manager server had already stopped (exitcode ", ServerExitCode(),
        ") when it was shut down: ", requested.message()));
  }
  if (server_.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat("the Manager server ended with exitcode ",
                     ServerExitCode(), " at shutdown"));
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<Manager> Context::StartManager() const {
  // The daemon rule, before any resource is made for the server.
  if (internal::CurrentState().daemon()) return internal::DaemonChildError();

  std::string authkey(internal::kAuthkeySize, '\0');
  if (absl::Status s = backend_->SecureRandom(gsl::span<char>(authkey));
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<Listener>> listened = backend_->Listen();
  if (!listened.ok()) return listened.status();
  std::shared_ptr<Listener> listener = *std::move(listened);

  auto endpoint = std::make_shared<internal::ManagerEndpoint>();
  endpoint->backend = std::string(backend_->name());
  endpoint->address = listener->address();
  endpoint->authkey = authkey;

  const internal::ServerLimits limits = internal::LimitsForNewManagers();
  Process server = NewProcess(
      Target(&internal::RunManagerServer, authkey, limits.max_connections,
             absl::ToInt64Milliseconds(limits.handshake_timeout)),
      {.kill_on_parent_death = true});
  {
    // Named as CPython names its manager process ("SyncManager-1").
    absl::MutexLock lock(&server.record_->mu);
    server.record_->name =
        internal::DefaultName(server.record_->identity, "Manager");
    server.record_->listener = listener;
  }
  listener.reset();
  // The listener is kept alive by the record until Start hands it over.
  if (absl::Status started = server.Start(); !started.ok()) {
    return started;
  }
  auto core = std::make_shared<internal::ManagerCore>(std::move(server),
                                                      std::move(endpoint));
  internal::CurrentState().AddManager(core);
  return Manager(std::move(core));
}

Manager::Manager(std::shared_ptr<internal::ManagerCore> core)
    : core_(std::move(core)) {}
Manager::Manager(Manager&&) noexcept = default;
Manager& Manager::operator=(Manager&& other) noexcept {
  if (this != &other) {
    if (core_ != nullptr) (void)core_->Shutdown();
    core_ = std::move(other.core_);
  }
  return *this;
}
Manager::~Manager() {
  if (core_ != nullptr) (void)core_->Shutdown();
}

absl::Status Manager::Shutdown() {
  if (core_ == nullptr) {
    return absl::FailedPreconditionError("use of a moved-from Manager");
  }
  return core_->Shutdown();
}

std::optional<int64_t> Manager::pid() const {
  return core_ == nullptr ? std::nullopt : core_->pid();
}

std::string Manager::address() const {
  return core_ == nullptr ? "" : core_->address();
}

absl::StatusOr<std::shared_ptr<internal::ManagerEndpoint>> Manager::Endpoint()
    const {
  if (core_ == nullptr) {
    return absl::FailedPreconditionError("use of a moved-from Manager");
  }
  return core_->endpoint();
}

absl::StatusOr<internal::ProxyHandle> Manager::Create(
    internal::Op op, absl::string_view fields) const {
  absl::StatusOr<std::shared_ptr<internal::ManagerEndpoint>> endpoint =
      Endpoint();
  if (!endpoint.ok()) return endpoint.status();
  return internal::CreateObject(*std::move(endpoint), op, fields);
}

absl::StatusOr<LockProxy> Manager::Lock() {
  absl::StatusOr<internal::ProxyHandle> handle =
      Create(internal::Op::kCreateLock);
  if (!handle.ok()) return handle.status();
  return LockProxy(*std::move(handle));
}

absl::StatusOr<EventProxy> Manager::Event() {
  absl::StatusOr<internal::ProxyHandle> handle =
      Create(internal::Op::kCreateEvent);
  if (!handle.ok()) return handle.status();
  return EventProxy(*std::move(handle));
}

}  // namespace mproc
