// Windows only: channel pairs over named pipes, and WaitReady
// (windows_channel.h).
#include "backends/windows/windows_channel.h"

// windows.h (through win32.h) first: bcrypt.h needs its types.
#include "backends/windows/win32.h"
//
#include <bcrypt.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "backends/windows/pipe_transport.h"
#include "backends/windows/windows_launch.h"
#include "backends/windows/windows_shared.h"

namespace mproc::windows {
namespace {

constexpr absl::string_view kChannelPrefix = "\\\\.\\pipe\\mproc-channel-";
// One ReadFile or WriteFile moves at most this much.
constexpr size_t kMaxIo = size_t{1} << 20;

Handle NewEvent() {
  return Handle(CreateEventW(nullptr, TRUE, FALSE, nullptr));
}

bool PeerGone(DWORD error) {
  return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA ||
         error == ERROR_PIPE_NOT_CONNECTED;
}

[[nodiscard]] absl::Status NotHeld() {
  return absl::FailedPreconditionError(
      "this process does not hold the channel end: it was closed here");
}

// WindowsChannelEnd
//
// One handle on one end of the pipe. Close closes this process's handle
// only; a child handed the end holds its own copy.
class WindowsChannelEnd final : public ChannelEnd, public WindowsShared {
 public:
  explicit WindowsChannelEnd(Handle pipe) : pipe_(std::move(pipe)) {}

  absl::Status WriteAll(absl::string_view bytes) override {
    if (!pipe_.valid()) return NotHeld();
    Handle event = NewEvent();
    if (!event.valid()) return LastErrorStatus("CreateEventW");
    while (!bytes.empty()) {
      OVERLAPPED overlapped{};
      overlapped.hEvent = event.get();
      const DWORD size = static_cast<DWORD>(std::min(bytes.size(), kMaxIo));
      if (!WriteFile(pipe_.get(), bytes.data(), size, nullptr, &overlapped)) {
        const DWORD error = GetLastError();
        if (PeerGone(error)) {
          return absl::UnavailableError("WriteFile: the peer closed its end");
        }
        if (error != ERROR_IO_PENDING) {
          return Win32ErrorToStatus(error, "WriteFile(channel)");
        }
      }
      DWORD done = 0;
      if (!GetOverlappedResult(pipe_.get(), &overlapped, &done, TRUE)) {
        const DWORD error = GetLastError();
        if (PeerGone(error)) {
          return absl::UnavailableError("WriteFile: the peer closed its end");
        }
        return Win32ErrorToStatus(error, "WriteFile(channel)");
      }
      bytes.remove_prefix(done);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    if (buffer.empty()) {
      return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
    }
    if (!pipe_.valid()) return NotHeld();
    if (deadline == absl::InfinitePast()) {
      // Only what has arrived: never leave a read pending.
      DWORD available = 0;
      if (!PeekNamedPipe(pipe_.get(), nullptr, 0, nullptr, &available,
                         nullptr)) {
        const DWORD error = GetLastError();
        if (PeerGone(error)) return size_t{0};
        return Win32ErrorToStatus(error, "PeekNamedPipe(channel)");
      }
      if (available == 0) {
        return absl::DeadlineExceededError("nothing to read by the deadline");
      }
      buffer = buffer.first(std::min<size_t>(buffer.size(), available));
    }
    Handle event = NewEvent();
    if (!event.valid()) return LastErrorStatus("CreateEventW");
    OVERLAPPED overlapped{};
    overlapped.hEvent = event.get();
    const DWORD size = static_cast<DWORD>(std::min(buffer.size(), kMaxIo));
    if (!ReadFile(pipe_.get(), buffer.data(), size, nullptr, &overlapped)) {
      const DWORD error = GetLastError();
      if (PeerGone(error)) return size_t{0};
      if (error != ERROR_IO_PENDING) {
        return Win32ErrorToStatus(error, "ReadFile(channel)");
      }
      bool timed_out = false;
      while (true) {
        const DWORD result =
            WaitForSingleObject(event.get(), MillisecondsUntil(deadline));
        if (result == WAIT_OBJECT_0) break;
        if (result == WAIT_FAILED) {
          absl::Status status = LastErrorStatus("WaitForSingleObject(read)");
          (void)CancelIoEx(pipe_.get(), &overlapped);
          DWORD ignored = 0;
          (void)GetOverlappedResult(pipe_.get(), &overlapped, &ignored, TRUE);
          return status;
        }
        // WAIT_TIMEOUT: a far deadline is waited for in capped steps.
        if (absl::Now() >= deadline) {
          timed_out = true;
          (void)CancelIoEx(pipe_.get(), &overlapped);
          break;
        }
      }
      DWORD done = 0;
      if (!GetOverlappedResult(pipe_.get(), &overlapped, &done, TRUE)) {
        const DWORD error = GetLastError();
        if (PeerGone(error)) return size_t{0};
        if (timed_out && error == ERROR_OPERATION_ABORTED) {
          return absl::DeadlineExceededError("nothing to read by the deadline");
        }
        return Win32ErrorToStatus(error, "ReadFile(channel)");
      }
      return static_cast<size_t>(done);  // data, even if just cancelled
    }
    DWORD done = 0;
    if (!GetOverlappedResult(pipe_.get(), &overlapped, &done, TRUE)) {
      const DWORD error = GetLastError();
      if (PeerGone(error)) return size_t{0};
      return Win32ErrorToStatus(error, "ReadFile(channel)");
    }
    return static_cast<size_t>(done);
  }

  void Close() override { pipe_.Reset(); }

  Kind kind() const override { return Kind::kChannel; }
  size_t size() const override { return 0; }
  HANDLE handle() const override { return pipe_.get(); }

 private:
  Handle pipe_;
};

// A zero-byte overlapped read pending on one end, cancelled (and finished)
// when destroyed.
struct PendingProbe {
  HANDLE pipe = nullptr;
  Handle event;
  OVERLAPPED overlapped{};
  char byte = 0;  // the zero-byte read's buffer
  bool pending = false;

  ~PendingProbe() {
    if (!pending) return;
    (void)CancelIoEx(pipe, &overlapped);
    DWORD ignored = 0;
    (void)GetOverlappedResult(pipe, &overlapped, &ignored, TRUE);
  }
};

}  // namespace

absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreateWindowsChannelPair() {
  char random[16];
  if (BCryptGenRandom(nullptr, reinterpret_cast<PUCHAR>(random), sizeof(random),
                      BCRYPT_USE_SYSTEM_PREFERRED_RNG) < 0) {
    return absl::UnavailableError(
        "BCryptGenRandom failed: no secure random source for the pipe name");
  }
  absl::StatusOr<std::wstring> name = Utf8ToWide(absl::StrCat(
      kChannelPrefix, absl::BytesToHexString(absl::string_view(random, 16))));
  if (!name.ok()) return name.status();
  absl::StatusOr<Handle> server =
      NewPrivatePipeInstance(*name, /*first=*/true, /*max_instances=*/1);
  if (!server.ok()) return server.status();
  Handle client(CreateFileW(
      name->c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
      nullptr));
  if (!client.valid()) {
    return LastErrorStatus("CreateFileW(channel pipe)",
                           "close handles, or end processes");
  }
  // The client is connected already: ConnectNamedPipe only confirms it.
  Handle event = NewEvent();
  if (!event.valid()) return LastErrorStatus("CreateEventW");
  OVERLAPPED overlapped{};
  overlapped.hEvent = event.get();
  if (!ConnectNamedPipe(server->get(), &overlapped)) {
    const DWORD error = GetLastError();
    if (error == ERROR_IO_PENDING) {
      DWORD ignored = 0;
      if (!GetOverlappedResult(server->get(), &overlapped, &ignored, TRUE)) {
        return LastErrorStatus("ConnectNamedPipe(channel pipe)");
      }
    } else if (error != ERROR_PIPE_CONNECTED) {
      return Win32ErrorToStatus(error, "ConnectNamedPipe(channel pipe)");
    }
  }
  return std::array<std::shared_ptr<ChannelEnd>, 2>{
      std::make_shared<WindowsChannelEnd>(*std::move(server)),
      std::make_shared<WindowsChannelEnd>(std::move(client))};
}

absl::StatusOr<std::shared_ptr<ChannelEnd>> AdoptWindowsChannelEnd(
    Handle pipe) {
  if (!pipe.valid() || GetFileType(pipe.get()) != FILE_TYPE_PIPE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "handle ", reinterpret_cast<uintptr_t>(pipe.get()),
        " is not the channel pipe the launch request names; parent and child "
        "must be the same build of the program"));
  }
  return std::make_shared<WindowsChannelEnd>(std::move(pipe));
}

absl::StatusOr<Backend::Ready> WindowsWaitReady(
    gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
    absl::Time deadline) {
  if (ends.size() + children.size() >= MAXIMUM_WAIT_OBJECTS) {
    return absl::InvalidArgumentError(
        absl::StrCat("windows waits on at most ", MAXIMUM_WAIT_OBJECTS - 1,
                     " Connections and Processes at once, not ",
                     ends.size() + children.size(), "; wait on fewer"));
  }
  Backend::Ready ready;
  // Fixed addresses: the system writes the OVERLAPPEDs until each finishes.
  std::vector<std::unique_ptr<PendingProbe>> probes(ends.size());
  std::vector<HANDLE> waits;
  std::vector<std::pair<bool, size_t>> owners;  // (is end, index)
  for (size_t i = 0; i < ends.size(); ++i) {
    auto* end = dynamic_cast<WindowsShared*>(ends[i]);
    if (end == nullptr || end->kind() != WindowsShared::Kind::kChannel) {
      return absl::InvalidArgumentError(
          "a Connection made by another backend was passed to windows' Wait; "
          "wait on objects of one context's backend");
    }
    if (end->handle() == nullptr) return NotHeld();
    auto probe = std::make_unique<PendingProbe>();
    probe->pipe = end->handle();
    probe->event = NewEvent();
    if (!probe->event.valid()) return LastErrorStatus("CreateEventW");
    probe->overlapped.hEvent = probe->event.get();
    if (ReadFile(probe->pipe, &probe->byte, 0, nullptr, &probe->overlapped)) {
      ready.ends.push_back(i);  // a zero-length read completed: readable
    } else {
      const DWORD error = GetLastError();
      if (PeerGone(error)) {
        ready.ends.push_back(i);  // end-of-stream
      } else if (error == ERROR_IO_PENDING) {
        probe->pending = true;
        waits.push_back(probe->event.get());
        owners.emplace_back(true, i);
      } else {
        return Win32ErrorToStatus(error, "ReadFile(channel, 0 bytes)");
      }
    }
    probes[i] = std::move(probe);
  }
  std::vector<Handle> processes;
  processes.reserve(children.size());
  for (size_t j = 0; j < children.size(); ++j) {
    absl::StatusOr<Handle> process = DuplicateChildProcessHandle(*children[j]);
    if (!process.ok()) return process.status();
    if (!process->valid()) {
      ready.children.push_back(j);  // already reaped
      continue;
    }
    waits.push_back(process->get());
    owners.emplace_back(false, j);
    processes.push_back(*std::move(process));
  }
  const bool any_ready = !ready.ends.empty() || !ready.children.empty();
  if (!waits.empty()) {
    while (true) {
      const DWORD result = WaitForMultipleObjects(
          static_cast<DWORD>(waits.size()), waits.data(), FALSE,
          any_ready ? 0 : MillisecondsUntil(deadline));
      if (result == WAIT_FAILED) {
        return LastErrorStatus("WaitForMultipleObjects(Wait)");
      }
      if (result != WAIT_TIMEOUT || any_ready || absl::Now() >= deadline) {
        break;
      }
    }
    // Every object signalled now, not only the first.
    for (size_t k = 0; k < waits.size(); ++k) {
      if (WaitForSingleObject(waits[k], 0) != WAIT_OBJECT_0) continue;
      (owners[k].first ? ready.ends : ready.children)
          .push_back(owners[k].second);
    }
  }
  std::sort(ready.ends.begin(), ready.ends.end());
  std::sort(ready.children.begin(), ready.children.end());
  return ready;  // the probes still pending are cancelled here
}

}  // namespace mproc::windows
