#include "tests/fuzz/scripted_transport.h"

#include <algorithm>
#include <utility>

namespace mproc::fuzz {
namespace {

// What Accept returns: the listener keeps the ScriptedChannel (the harness
// reads what was written to it), the server owns this handle.
class ChannelHandle : public Channel {
 public:
  explicit ChannelHandle(std::shared_ptr<ScriptedChannel> channel)
      : channel_(std::move(channel)) {}
  [[nodiscard]] absl::Status WriteAll(absl::string_view bytes) override {
    return channel_->WriteAll(bytes);
  }
  [[nodiscard]] absl::StatusOr<size_t> ReadSomeUntil(
      gsl::span<char> buffer, absl::Time deadline) override {
    return channel_->ReadSomeUntil(buffer, deadline);
  }
  void Close() override { channel_->Close(); }

 private:
  std::shared_ptr<ScriptedChannel> channel_;
};

}  // namespace

ScriptedChannel::ScriptedChannel(std::string script,
                                 std::vector<size_t> chunk_limits,
                                 absl::Status end, Responder on_write)
    : script_(std::move(script)),
      chunk_limits_(std::move(chunk_limits)),
      end_(std::move(end)),
      on_write_(std::move(on_write)) {}

absl::Status ScriptedChannel::WriteAll(absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("scripted channel is closed");
  written_.append(bytes.data(), bytes.size());
  if (on_write_) script_ += on_write_(bytes);
  return absl::OkStatus();
}

absl::StatusOr<size_t> ScriptedChannel::ReadSomeUntil(gsl::span<char> buffer,
                                                      absl::Time) {
  absl::MutexLock lock(&mu_);
  largest_read_offered_ = std::max(largest_read_offered_, buffer.size());
  if (closed_) return 0;
  if (served_ == script_.size()) {
    if (!end_.ok()) return end_;
    return 0;
  }
  size_t n = std::min(buffer.size(), script_.size() - served_);
  if (!chunk_limits_.empty()) {
    const size_t limit = chunk_limits_[reads_ % chunk_limits_.size()];
    if (limit != 0) n = std::min(n, limit);
  }
  ++reads_;
  std::copy_n(script_.data() + served_, n, buffer.data());
  served_ += n;
  return n;
}

void ScriptedChannel::Close() {
  std::function<void()> on_close;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    on_close = std::move(on_close_);
  }
  if (on_close) on_close();
}

std::string ScriptedChannel::written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

bool ScriptedChannel::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

size_t ScriptedChannel::largest_read_offered() const {
  absl::MutexLock lock(&mu_);
  return largest_read_offered_;
}

void ScriptedChannel::set_on_close(std::function<void()> on_close) {
  absl::MutexLock lock(&mu_);
  on_close_ = std::move(on_close);
}

ScriptedListener::ScriptedListener(
    std::vector<std::shared_ptr<ScriptedChannel>> channels)
    : channels_(std::move(channels)) {
  for (const auto& channel : channels_) {
    channel->set_on_close([this] {
      absl::MutexLock lock(&mu_);
      ++channels_closed_;
    });
  }
}

ScriptedListener::~ScriptedListener() {
  for (const auto& channel : channels_) channel->set_on_close(nullptr);
}

absl::StatusOr<std::unique_ptr<Channel>> ScriptedListener::Accept() {
  absl::MutexLock lock(&mu_);
  // The previous client first: it must be done before the next one starts.
  auto previous_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || channels_closed_ == next_;
  };
  mu_.Await(absl::Condition(&previous_done));
  if (closed_ || next_ == channels_.size()) {
    return absl::CancelledError("scripted listener: no more clients");
  }
  return std::make_unique<ChannelHandle>(channels_[next_++]);
}

void ScriptedListener::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace mproc::fuzz
