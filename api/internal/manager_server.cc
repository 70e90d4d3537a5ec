#include "api/internal/manager_server.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/current_process.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/process_state.h"

namespace mproc::internal {
namespace {

class Server {
 public:
  Server(Listener& listener, absl::string_view authkey)
      : listener_(listener), authkey_(authkey) {}

  absl::Status Run();

 private:
  void Serve(std::shared_ptr<Channel> channel);
  // Applies one request; `reply` gets the result body of a synchronous one.
  absl::Status Apply(Op op, ByteReader& in, ByteWriter& reply);
  absl::StatusOr<std::vector<std::string>*> FindList(uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogDropped(absl::string_view why) {
    WriteStderr(absl::StrCat("mproc Manager ", server_name_,
                             ": closed a client connection: ", why, "\n"));
  }

  Listener& listener_;
  const std::string authkey_;
  const std::string server_name_ = CurrentProcess().name;
  std::atomic<bool> shutdown_requested_{false};

  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> lists_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_list_id_ ABSL_GUARDED_BY(mu_) = 1;
};

absl::Status Server::Run() {
  std::vector<std::shared_ptr<Channel>> channels;
  std::vector<std::thread> threads;
  while (true) {
    absl::StatusOr<std::unique_ptr<Channel>> accepted = listener_.Accept();
    if (!accepted.ok()) break;
    std::shared_ptr<Channel> channel = *std::move(accepted);
    channels.push_back(channel);
    threads.emplace_back([this, channel] { Serve(channel); });
  }
  for (const auto& channel : channels) channel->Close();
  for (std::thread& thread : threads) thread.join();
  if (shutdown_requested_.load()) return absl::OkStatus();
  return absl::CancelledError("the Manager stopped without a Shutdown request");
}

void Server::Serve(std::shared_ptr<Channel> channel) {
  FrameReader reader(*channel);
  bool authenticated = false;
  absl::Status pipelined_error;  // kept for the next synchronous request
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok()) {
      if (!absl::IsUnavailable(frame.status()) &&
          !absl::IsCancelled(frame.status())) {
        LogDropped(frame.status().ToString());
      }
      break;
    }
    if (!frame->has_value()) break;  // the client closed its end
    ByteReader in(**frame);
    absl::StatusOr<uint64_t> raw_op = in.GetVarint();
    if (!raw_op.ok() || *raw_op < static_cast<uint64_t>(Op::kHello) ||
        *raw_op > static_cast<uint64_t>(Op::kLastOp)) {
      LogDropped("malformed request (unknown operation)");
      break;
    }
    const Op op = static_cast<Op>(*raw_op);
    if (!authenticated) {
      absl::StatusOr<absl::string_view> key = in.GetBytes();
      if (op != Op::kHello || !key.ok() ||
          !ConstantTimeEquals(*key, authkey_)) {
        std::string reply;
        AppendFrame(EncodeReply(absl::UnauthenticatedError(
                                    "the Manager rejected the authkey"),
                                ""),
                    reply);
        (void)channel->WriteAll(reply);
        LogDropped("authentication failed (wrong authkey or no Hello)");
        break;
      }
      authenticated = true;
      std::string reply;
      AppendFrame(EncodeReply(absl::OkStatus(), ""), reply);
      if (!channel->WriteAll(reply).ok()) break;
      continue;
    }
    ByteWriter body;
    absl::Status status = Apply(op, in, body);
    if (status.ok() && !in.empty()) status = in.ExpectEnd();
    if (!IsSynchronous(op)) {
      if (!status.ok() && pipelined_error.ok()) pipelined_error = status;
      continue;
    }
    if (!pipelined_error.ok()) {
      status = std::exchange(pipelined_error, absl::OkStatus());
    }
    std::string reply;
    AppendFrame(EncodeReply(status, body.data()), reply);
    if (!channel->WriteAll(reply).ok()) break;
    if (op == Op::kShutdown && status.ok()) {
      shutdown_requested_.store(true);
      listener_.Close();
      break;
    }
  }
  channel->Close();
}

absl::StatusOr<std::vector<std::string>*> Server::FindList(uint64_t id) {
  auto it = lists_.find(id);
  if (it == lists_.end()) {
    return absl::NotFoundError(absl::StrCat("the Manager has no list ", id));
  }
  return &it->second;
}

absl::Status Server::Apply(Op op, ByteReader& in, ByteWriter& reply) {
  if (op == Op::kHello) {
    return absl::FailedPreconditionError("Hello sent twice");
  }
  if (op == Op::kShutdown || op == Op::kSync) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (op == Op::kCreateList) {
    const uint64_t id = next_list_id_++;
    lists_[id];
    reply.PutVarint(id);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> id = in.GetVarint();
  if (!id.ok()) return id.status();
  absl::StatusOr<std::vector<std::string>*> list = FindList(*id);
  if (!list.ok()) return list.status();
  switch (op) {
    case Op::kAppend: {
      absl::StatusOr<absl::string_view> item = in.GetBytes();
      if (!item.ok()) return item.status();
      (*list)->emplace_back(*item);
      return absl::OkStatus();
    }
    case Op::kExtend: {
      absl::StatusOr<uint64_t> count = in.GetCount(1);
      if (!count.ok()) return count.status();
      for (uint64_t i = 0; i < *count; ++i) {
        absl::StatusOr<absl::string_view> item = in.GetBytes();
        if (!item.ok()) return item.status();
        (*list)->emplace_back(*item);
      }
      return absl::OkStatus();
    }
    case Op::kSize:
      reply.PutVarint((*list)->size());
      return absl::OkStatus();
    case Op::kGet: {
      absl::StatusOr<int64_t> index = in.GetSignedVarint();
      if (!index.ok()) return index.status();
      const auto size = static_cast<int64_t>((*list)->size());
      const int64_t at = *index < 0 ? *index + size : *index;
      if (at < 0 || at >= size) {
        return absl::OutOfRangeError(absl::StrCat(
            "list index out of range: ", *index, " with ", size, " items"));
      }
      reply.PutBytes((**list)[at]);
      return absl::OkStatus();
    }
    case Op::kSnapshot:
      reply.PutVarint((*list)->size());
      for (const std::string& item : **list) reply.PutBytes(item);
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("unexpected operation");
  }
}

}  // namespace

absl::Status ServeManager(Listener& listener, absl::string_view authkey) {
  Server server(listener, authkey);
  return server.Run();
}

}  // namespace mproc::internal
