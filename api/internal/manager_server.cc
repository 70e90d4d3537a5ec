#include "api/internal/manager_server.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/current_process.h"
#include "api/fork_safety.h"
#include "api/internal/manager_handshake.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/manager_store.h"
#include "api/internal/process_state.h"
#include "gsl/util"

namespace mproc::internal {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(1);
constexpr absl::Duration kMaxBackoff = absl::Milliseconds(100);
// How long a client past the cap waits for a live connection to finish
// before it is refused: a client that has ended may not have been seen yet
// (its connection's thread notices the hang-up a moment later).
constexpr absl::Duration kAdmitGrace = absl::Seconds(1);

struct GlobalLimits {
  absl::Mutex mu;
  ServerLimits value ABSL_GUARDED_BY(mu);
};

GlobalLimits& Limits() {
  static GlobalLimits* const limits = new GlobalLimits;  // never destroyed
  return *limits;
}

std::thread StartThread(std::function<void()> body) {
  return std::thread(std::move(body));
}

// One live connection, as the accept loop sees it.
struct Connection {
  std::shared_ptr<Channel> channel;
  std::thread thread;
};

// The server: the accept loop (Run) and one thread per connection. A
// connection thread that ends joins the one that ended before it, and Run
// joins the last, so every thread is joined before Run returns (a library
// such as libcrypto frees its per-thread state only when a thread exits)
// without a thread of the server's own to do it.
class ServerCore {
 public:
  ServerCore(Listener& listener, Backend& backend, absl::string_view authkey,
             ServerOptions options)
      : listener_(listener),
        backend_(backend),
        authkey_(authkey),
        options_(std::move(options)) {
    if (!options_.start_thread) options_.start_thread = &StartThread;
  }

  // The accept loop; returns once every connection has ended.
  absl::Status Run();

 private:
  void Admit(std::unique_ptr<Channel> accepted);
  void Serve(uint64_t id, std::shared_ptr<Channel> channel);
  // Serves requests on authenticated connection `id` until it ends.
  void ServeRequests(uint64_t id, Channel& channel, FrameReader& reader);
  // Forgets connection `id` (releasing its channel), keeps its thread to be
  // joined, and joins the thread kept before.
  void Finish(uint64_t id);
  // Closes every connection, waits until their threads have ended, and
  // joins the last one.
  void StopAll();
  void Log(absl::string_view what) {
    WriteStderr(absl::StrCat("mproc Manager ", server_name_, ": ", what, "\n"));
  }
  void LogDropped(absl::string_view why) {
    Log(absl::StrCat("closed a client connection: ", why));
  }

  Listener& listener_;
  Backend& backend_;
  const std::string authkey_;
  ServerOptions options_;
  const std::string server_name_ = CurrentProcess().name;
  std::atomic<bool> shutdown_requested_{false};
  ManagerStore store_;

  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Connection> live_ ABSL_GUARDED_BY(mu_);
  // The thread of the connection that ended last, not joined yet.
  std::thread last_ended_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool refusing_ ABSL_GUARDED_BY(mu_) = false;  // logged this refusal streak
};

absl::Status ServerCore::Run() {
  const auto stop = gsl::finally([&] { StopAll(); });
  absl::Duration backoff = kFirstBackoff;
  bool failing = false;
  while (true) {
    absl::StatusOr<std::unique_ptr<Channel>> accepted = listener_.Accept();
    if (accepted.ok()) {
      failing = false;
      backoff = kFirstBackoff;
      Admit(*std::move(accepted));
      continue;
    }
    if (absl::IsCancelled(accepted.status())) break;  // the listener closed
    // Out of descriptors, memory, ...: others may free some. Log once per
    // streak, and back off so a persistent error does not spin.
    if (!failing) {
      Log(absl::StrCat("cannot accept a client (", accepted.status().ToString(),
                       "); retrying"));
      failing = true;
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  if (shutdown_requested_.load()) return absl::OkStatus();
  return absl::CancelledError("the Manager stopped without a Shutdown request");
}

void ServerCore::Admit(std::unique_ptr<Channel> accepted) {
  std::shared_ptr<Channel> channel = std::move(accepted);
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    const auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return std::cmp_less(live_.size(), options_.limits.max_connections);
    };
    mu_.AwaitWithTimeout(absl::Condition(&has_room), kAdmitGrace);
    if (!has_room()) {
      if (!std::exchange(refusing_, true)) {  // once per streak
        Log(absl::StrCat("refusing clients: ", live_.size(),
                         " live connections, the limit"));
      }
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "the Manager has too many connections (",
          options_.limits.max_connections,
          "); end processes that use its proxies, then try again"));
    } else {
      refusing_ = false;
      const uint64_t id = next_id_++;
      Connection& connection = live_[id];
      connection.channel = channel;
      try {
        // Under mu_: the thread's Finish cannot run before its handle is
        // stored.
        connection.thread =
            options_.start_thread([this, id, channel]() mutable {
              Serve(id, std::move(channel));  // released when Serve returns
              Finish(id);
            });
      } catch (const std::system_error& e) {
        live_.erase(id);
        Log(absl::StrCat("refused a client: cannot start a thread for it (",
                         e.what(), ")"));
        refused = absl::ResourceExhaustedError(absl::StrCat(
            "the Manager cannot start a thread for this connection (", e.what(),
            "); try again later"));
      }
    }
  }
  if (!refused.ok()) {
    SendRefusal(*channel, refused);
    channel->Close();
  }
}

void ServerCore::Serve(uint64_t id, std::shared_ptr<Channel> channel) {
  const auto close = gsl::finally([&channel] { channel->Close(); });
  FrameReader reader(*channel, kMaxHandshakePayload);
  reader.set_deadline(ForkSafeNow() + options_.limits.handshake_timeout);
  const absl::Status handshake =
      AcceptHandshake(backend_, authkey_, *channel, reader);
  if (absl::IsDeadlineExceeded(handshake)) {
    LogDropped(
        absl::StrCat("no handshake within ",
                     absl::FormatDuration(options_.limits.handshake_timeout)));
    return;
  }
  if (!handshake.ok()) {
    // A client that hangs up is not news.
    if (!absl::IsUnavailable(handshake) && !absl::IsCancelled(handshake)) {
      LogDropped(handshake.ToString());
    }
    return;
  }
  reader.set_deadline(absl::InfiniteFuture());
  reader.set_max_payload(kMaxFramePayload);
  ServeRequests(id, *channel, reader);
  // The locks it holds are released, marked abandoned.
  store_.ConnectionClosed(id);
}

void ServerCore::ServeRequests(uint64_t id, Channel& channel,
                               FrameReader& reader) {
  absl::Status pipelined_error;  // kept for the next synchronous request
  const RequestContext context{
      .connection = id,
      .max_wait = options_.max_wait,
      .peer_gone = [&reader] { return reader.PeerGone(); },
  };
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok()) {
      if (!absl::IsUnavailable(frame.status()) &&
          !absl::IsCancelled(frame.status())) {
        LogDropped(frame.status().ToString());
      }
      return;
    }
    if (!frame->has_value()) return;  // the client closed its end
    ByteReader in(**frame);
    absl::StatusOr<uint64_t> raw_op = in.GetVarint();
    if (!raw_op.ok() || *raw_op < static_cast<uint64_t>(Op::kHello) ||
        *raw_op > static_cast<uint64_t>(Op::kLastOp)) {
      LogDropped("malformed request (unknown operation)");
      return;
    }
    const Op op = static_cast<Op>(*raw_op);
    ByteWriter body;
    absl::Status status = store_.Apply(op, in, body, context);
    if (status.ok() && !in.empty()) status = in.ExpectEnd();
    if (!IsSynchronous(op)) {
      if (!status.ok() && pipelined_error.ok()) pipelined_error = status;
      continue;
    }
    if (!pipelined_error.ok()) {
      status = std::exchange(pipelined_error, absl::OkStatus());
    }
    std::string payload = EncodeReply(status, body.data());
    if (payload.size() > kMaxFramePayload) {
      payload = EncodeReply(absl::ResourceExhaustedError(
                                absl::StrCat("the reply (", payload.size(),
                                             " bytes) is too large for one "
                                             "frame (at most ",
                                             kMaxFramePayload, " bytes)")),
                            "");
    }
    std::string reply;
    AppendFrame(payload, reply);
    if (!channel.WriteAll(reply).ok()) return;
    if (op == Op::kShutdown && status.ok()) {
      shutdown_requested_.store(true);
      store_.Stop();
      listener_.Close();
      return;
    }
  }
}

void ServerCore::Finish(uint64_t id) {
  std::thread previous;
  {
    absl::MutexLock lock(&mu_);
    auto it = live_.find(id);
    previous = std::exchange(last_ended_, std::move(it->second.thread));
    live_.erase(it);  // the last reference: the channel is released here
  }
  // It has ended, or is joining the one before it, which has.
  if (previous.joinable()) previous.join();
}

void ServerCore::StopAll() {
  std::thread last;
  {
    store_.Stop();  // ends the waits of blocking requests
    absl::MutexLock lock(&mu_);
    for (auto& [id, connection] : live_) connection.channel->Close();
    mu_.Await(absl::Condition(
        +[](absl::flat_hash_map<uint64_t, Connection>* live) {
          return live->empty();
        },
        &live_));
    last = std::move(last_ended_);
  }
  if (last.joinable()) last.join();
}

}  // namespace

absl::Status ServeManager(Listener& listener, Backend& backend,
                          absl::string_view authkey,
                          const ServerOptions& options) {
  ServerCore core(listener, backend, authkey, options);
  return core.Run();
}

ServerLimits LimitsForNewManagers() {
  GlobalLimits& limits = Limits();
  absl::MutexLock lock(&limits.mu);
  return limits.value;
}

ScopedServerLimitsForTesting::ScopedServerLimitsForTesting(
    ServerLimits limits) {
  GlobalLimits& global = Limits();
  absl::MutexLock lock(&global.mu);
  saved_ = std::exchange(global.value, limits);
}

ScopedServerLimitsForTesting::~ScopedServerLimitsForTesting() {
  GlobalLimits& global = Limits();
  absl::MutexLock lock(&global.mu);
  global.value = saved_;
}

}  // namespace mproc::internal
