// -----------------------------------------------------------------------------
// File: tests/fuzz/scripted_transport.h
// -----------------------------------------------------------------------------
//
// In-memory Channel and Listener for the fuzz harnesses: a ScriptedChannel
// serves bytes fixed in advance (in chunks of chosen sizes) and records what
// the other side writes; a ScriptedListener hands out scripted channels one
// at a time. Nothing blocks on the script: a read past the script's end
// returns its end (0 or an error), so a harness is deterministic and never
// hangs.

#ifndef MPROC_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_
#define MPROC_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/backend.h"
#include "gsl/span"

namespace mproc::fuzz {

// ScriptedChannel
//
// Serves `script` to the reader, at most `chunk_limits[i % size]` bytes per
// ReadSome (0: no limit; an empty list: no limit). Once the script is used
// up, ReadSome returns `end` (OK: 0 bytes, a clean end of stream; an error:
// that error). `on_write`, when set, sees each WriteAll and returns bytes to
// append to the script (a client answering the server, as in a handshake).
class ScriptedChannel : public Channel {
 public:
  using Responder = std::function<std::string(absl::string_view written)>;

  ScriptedChannel(std::string script, std::vector<size_t> chunk_limits,
                  absl::Status end = absl::OkStatus(),
                  Responder on_write = nullptr);

  [[nodiscard]] absl::Status WriteAll(absl::string_view bytes) override;
  // Never blocks (the script's end comes at once), so the deadline never
  // matters.
  [[nodiscard]] absl::StatusOr<size_t> ReadSomeUntil(
      gsl::span<char> buffer, absl::Time deadline) override;
  void Close() override;

  // Everything written so far.
  std::string written() const;
  bool closed() const;
  // The largest buffer a ReadSome was offered.
  size_t largest_read_offered() const;
  // Called once, after the first Close (outside this channel's lock).
  void set_on_close(std::function<void()> on_close);

 private:
  mutable absl::Mutex mu_;
  std::string script_ ABSL_GUARDED_BY(mu_);
  size_t served_ ABSL_GUARDED_BY(mu_) = 0;
  size_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  size_t largest_read_offered_ ABSL_GUARDED_BY(mu_) = 0;
  const std::vector<size_t> chunk_limits_;
  const absl::Status end_;
  Responder on_write_ ABSL_GUARDED_BY(mu_);
  std::string written_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_close_ ABSL_GUARDED_BY(mu_);
};

// ScriptedListener
//
// Accept hands out `channels` in order, one at a time: it waits until the
// previous one has been closed (by the server, when it is done with that
// client), so clients are served one after another and the server's state
// evolves the same way on every run. After the last one is closed, or once
// Close has been called, Accept returns `kCancelled`.
class ScriptedListener : public Listener {
 public:
  explicit ScriptedListener(
      std::vector<std::shared_ptr<ScriptedChannel>> channels);
  // Detaches from the channels, which may outlive it.
  ~ScriptedListener() override;

  std::string address() const override { return "scripted"; }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> Accept() override;
  void Close() override;

 private:
  absl::Mutex mu_;
  const std::vector<std::shared_ptr<ScriptedChannel>> channels_;
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  size_t channels_closed_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mproc::fuzz

#endif  // MPROC_TESTS_FUZZ_SCRIPTED_TRANSPORT_H_
