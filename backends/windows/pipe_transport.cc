// Windows only: the Manager transport over named pipes (pipe_transport.h).
#include "backends/windows/pipe_transport.h"

// windows.h (through win32.h) first: these need its types.
#include "backends/windows/win32.h"
//
#include <bcrypt.h>
#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mproc::windows {
namespace {

constexpr absl::string_view kPipePrefix = "\\\\.\\pipe\\mproc-";
constexpr DWORD kBufferSize = 64 * 1024;

std::atomic<int64_t> open_transports{0};

Handle NewEvent() {
  return Handle(CreateEventW(nullptr, TRUE, FALSE, nullptr));
}

// A security descriptor granting the current user alone (its SID from the
// process token), as an SDDL string "D:P(A;;GA;;;<sid>)".
absl::StatusOr<std::wstring> CurrentUserOnlySddl() {
  HANDLE raw_token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw_token)) {
    return LastErrorStatus("OpenProcessToken");
  }
  Handle token(raw_token);
  DWORD size = 0;
  (void)GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  std::string buffer(size, '\0');
  if (!GetTokenInformation(token.get(), TokenUser, buffer.data(), size,
                           &size)) {
    return LastErrorStatus("GetTokenInformation(TokenUser)");
  }
  auto* user = reinterpret_cast<TOKEN_USER*>(buffer.data());
  wchar_t* sid = nullptr;
  if (!ConvertSidToStringSidW(user->User.Sid, &sid)) {
    return LastErrorStatus("ConvertSidToStringSidW");
  }
  std::wstring sddl = std::wstring(L"D:P(A;;GA;;;") + sid + L")";
  LocalFree(sid);
  return sddl;
}

}  // namespace

absl::StatusOr<Handle> NewPrivatePipeInstance(const std::wstring& name,
                                              bool first, DWORD max_instances) {
  static const absl::StatusOr<std::wstring>* const sddl =
      new absl::StatusOr<std::wstring>(CurrentUserOnlySddl());
  if (!sddl->ok()) return sddl->status();
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          (*sddl)->c_str(), SDDL_REVISION_1, &descriptor, nullptr)) {
    return LastErrorStatus(
        "ConvertStringSecurityDescriptorToSecurityDescriptorW");
  }
  SECURITY_ATTRIBUTES attributes{.nLength = sizeof(SECURITY_ATTRIBUTES),
                                 .lpSecurityDescriptor = descriptor,
                                 .bInheritHandle = FALSE};
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE pipe =
      CreateNamedPipeW(name.c_str(), open_mode,
                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                           PIPE_REJECT_REMOTE_CLIENTS,
                       max_instances, kBufferSize, kBufferSize, 0, &attributes);
  const DWORD error = GetLastError();
  LocalFree(descriptor);
  if (pipe == INVALID_HANDLE_VALUE) {
    return Win32ErrorToStatus(error, "CreateNamedPipeW",
                              "close handles, or end processes");
  }
  return Handle(pipe);
}

namespace {

// A server instance of pipe `name`: the first (owning the name) or another.
absl::StatusOr<Handle> NewInstance(const std::wstring& name, bool first) {
  return NewPrivatePipeInstance(name, first, PIPE_UNLIMITED_INSTANCES);
}

class PipeChannel final : public Channel {
 public:
  PipeChannel(Handle pipe, bool server)
      : pipe_(std::move(pipe)),
        server_(server),
        read_event_(NewEvent()),
        write_event_(NewEvent()),
        close_event_(NewEvent()) {
    open_transports.fetch_add(1, std::memory_order_relaxed);
  }
  ~PipeChannel() override {
    Close();
    open_transports.fetch_sub(1, std::memory_order_relaxed);
  }

  absl::Status WriteAll(absl::string_view bytes) override {
    HANDLE pipe = BeginIo();
    if (pipe == nullptr) {
      return absl::UnavailableError("the Manager connection is closed");
    }
    absl::Status status = WriteAllOn(pipe, bytes);
    EndIo();
    return status;
  }

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    HANDLE pipe = BeginIo();
    if (pipe == nullptr) return 0;
    absl::StatusOr<size_t> result = ReadOn(pipe, buffer, deadline);
    EndIo();
    return result;
  }

  void Close() override {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    SetEvent(close_event_.get());
    // With no I/O in flight, the peer sees the end now; otherwise the last
    // I/O to finish (woken by close_event_) closes the pipe.
    if (in_flight_ == 0) ClosePipe();
  }

 private:
  HANDLE BeginIo() {
    absl::MutexLock lock(&mu_);
    if (closed_) return nullptr;
    ++in_flight_;
    return pipe_.get();
  }
  void EndIo() {
    absl::MutexLock lock(&mu_);
    if (--in_flight_ == 0 && closed_) ClosePipe();
  }
  void ClosePipe() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!pipe_.valid()) return;
    if (server_) {
      (void)FlushFileBuffers(pipe_.get());
      (void)DisconnectNamedPipe(pipe_.get());
    }
    pipe_.Reset();
  }

  // Waits for `overlapped` (pending on `pipe`) until `deadline` or Close.
  // Returns the bytes done, or how it failed; on timeout or Close the I/O is
  // cancelled first (its result kept if it completed meanwhile).
  absl::StatusOr<size_t> Finish(HANDLE pipe, OVERLAPPED& overlapped,
                                absl::Time deadline, bool* timed_out,
                                bool* closed) {
    HANDLE events[2] = {overlapped.hEvent, close_event_.get()};
    while (true) {
      const DWORD result =
          WaitForMultipleObjects(2, events, FALSE, MillisecondsUntil(deadline));
      if (result == WAIT_OBJECT_0) break;
      if (result == WAIT_OBJECT_0 + 1 ||
          (result == WAIT_TIMEOUT && absl::Now() >= deadline)) {
        *closed = result == WAIT_OBJECT_0 + 1;
        *timed_out = !*closed;
        (void)CancelIoEx(pipe, &overlapped);
        break;
      }
      if (result == WAIT_FAILED) {
        absl::Status status = LastErrorStatus("WaitForMultipleObjects(pipe)");
        (void)CancelIoEx(pipe, &overlapped);
        DWORD ignored = 0;
        (void)GetOverlappedResult(pipe, &overlapped, &ignored, TRUE);
        return status;
      }
    }
    DWORD done = 0;
    if (!GetOverlappedResult(pipe, &overlapped, &done, TRUE)) {
      return Win32ErrorToStatus(GetLastError(), "pipe I/O");
    }
    return static_cast<size_t>(done);
  }

  absl::StatusOr<size_t> ReadOn(HANDLE pipe, gsl::span<char> buffer,
                                absl::Time deadline) {
    OVERLAPPED overlapped{};
    overlapped.hEvent = read_event_.get();
    ResetEvent(overlapped.hEvent);
    const DWORD size =
        static_cast<DWORD>(std::min<size_t>(buffer.size(), 1 << 20));
    if (!ReadFile(pipe, buffer.data(), size, nullptr, &overlapped)) {
      const DWORD error = GetLastError();
      if (error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED ||
          error == ERROR_NO_DATA) {
        return 0;  // the peer has gone: end of stream
      }
      if (error != ERROR_IO_PENDING) {
        return Win32ErrorToStatus(error, "ReadFile(pipe)");
      }
    }
    bool timed_out = false;
    bool closed = false;
    absl::StatusOr<size_t> done =
        Finish(pipe, overlapped, deadline, &timed_out, &closed);
    if (done.ok() && *done > 0) return done;  // data, even if just cancelled
    if (closed) return 0;
    if (timed_out) {
      return absl::DeadlineExceededError(
          "no data from the peer before the deadline");
    }
    if (!done.ok()) {
      if (absl::IsUnavailable(done.status()) ||
          absl::IsCancelled(done.status())) {
        return 0;  // broken pipe: end of stream
      }
      return done.status();
    }
    return 0;
  }

  absl::Status WriteAllOn(HANDLE pipe, absl::string_view bytes) {
    while (!bytes.empty()) {
      OVERLAPPED overlapped{};
      overlapped.hEvent = write_event_.get();
      ResetEvent(overlapped.hEvent);
      const DWORD size =
          static_cast<DWORD>(std::min<size_t>(bytes.size(), 1 << 20));
      if (!WriteFile(pipe, bytes.data(), size, nullptr, &overlapped)) {
        const DWORD error = GetLastError();
        if (error != ERROR_IO_PENDING) {
          return Win32ErrorToStatus(error, "WriteFile(pipe)",
                                    "the peer has closed the connection");
        }
      }
      bool timed_out = false;
      bool closed = false;
      absl::StatusOr<size_t> done =
          Finish(pipe, overlapped, absl::InfiniteFuture(), &timed_out, &closed);
      if (closed) {
        return absl::UnavailableError("the Manager connection was closed");
      }
      if (!done.ok()) {
        return absl::UnavailableError(absl::StrCat(
            done.status().message(), "; the peer has closed the connection"));
      }
      bytes.remove_prefix(*done);
    }
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  Handle pipe_ ABSL_GUARDED_BY(mu_);
  const bool server_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // One reader and one writer at a time: an event each.
  Handle read_event_;
  Handle write_event_;
  Handle close_event_;  // manual reset; set by Close
};

}  // namespace

PipeListener::PipeListener(std::string address, Handle instance,
                           Handle close_event)
    : address_(std::move(address)),
      instance_(std::move(instance)),
      close_event_(std::move(close_event)) {
  open_transports.fetch_add(1, std::memory_order_relaxed);
}

PipeListener::~PipeListener() {
  open_transports.fetch_sub(1, std::memory_order_relaxed);
}

absl::StatusOr<std::unique_ptr<Channel>> PipeListener::Accept() {
  absl::StatusOr<std::wstring> name = Utf8ToWide(address_);
  if (!name.ok()) return name.status();
  Handle connect_event = NewEvent();
  if (!connect_event.valid()) return LastErrorStatus("CreateEventW");
  while (true) {
    if (closed_.load(std::memory_order_acquire)) {
      return absl::CancelledError("the Manager listener is closed");
    }
    if (!instance_.valid()) {
      absl::StatusOr<Handle> next = NewInstance(*name, /*first=*/false);
      if (!next.ok()) return next.status();
      instance_ = *std::move(next);
    }
    OVERLAPPED overlapped{};
    overlapped.hEvent = connect_event.get();
    bool connected = ConnectNamedPipe(instance_.get(), &overlapped) != 0;
    if (!connected) {
      const DWORD error = GetLastError();
      if (error == ERROR_PIPE_CONNECTED) {
        connected = true;
      } else if (error == ERROR_NO_DATA) {
        // A client came and went: recycle the instance.
        (void)DisconnectNamedPipe(instance_.get());
        continue;
      } else if (error != ERROR_IO_PENDING) {
        return Win32ErrorToStatus(error, "ConnectNamedPipe");
      }
    }
    if (!connected) {
      HANDLE events[2] = {connect_event.get(), close_event_.get()};
      const DWORD result = WaitForMultipleObjects(2, events, FALSE, INFINITE);
      if (result != WAIT_OBJECT_0) {
        (void)CancelIoEx(instance_.get(), &overlapped);
        DWORD ignored = 0;
        (void)GetOverlappedResult(instance_.get(), &overlapped, &ignored, TRUE);
        if (result == WAIT_OBJECT_0 + 1) {
          return absl::CancelledError("the Manager listener is closed");
        }
        return LastErrorStatus("WaitForMultipleObjects(listener)");
      }
      DWORD ignored = 0;
      if (!GetOverlappedResult(instance_.get(), &overlapped, &ignored, FALSE)) {
        const DWORD error = GetLastError();
        (void)DisconnectNamedPipe(instance_.get());
        if (error == ERROR_NO_DATA || error == ERROR_BROKEN_PIPE) continue;
        return Win32ErrorToStatus(error, "ConnectNamedPipe");
      }
    }
    auto channel =
        std::make_unique<PipeChannel>(std::move(instance_), /*server=*/true);
    // The next instance now, so clients can keep connecting meanwhile; if it
    // fails, the next Accept retries (and reports the error).
    absl::StatusOr<Handle> next = NewInstance(*name, /*first=*/false);
    if (next.ok()) instance_ = *std::move(next);
    return channel;
  }
}

void PipeListener::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  SetEvent(close_event_.get());
}

void PipeListener::MarkHandedOver() {
  closed_.store(true, std::memory_order_release);
  instance_.Reset();
}

absl::StatusOr<std::unique_ptr<Listener>> ListenPipe() {
  char random[16];
  const NTSTATUS status =
      BCryptGenRandom(nullptr, reinterpret_cast<PUCHAR>(random), sizeof(random),
                      BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (status < 0) {
    return absl::UnavailableError(
        "BCryptGenRandom failed: no secure random source for the pipe name");
  }
  std::string address = absl::StrCat(
      kPipePrefix, absl::BytesToHexString(absl::string_view(random, 16)));
  absl::StatusOr<std::wstring> name = Utf8ToWide(address);
  if (!name.ok()) return name.status();
  absl::StatusOr<Handle> instance = NewInstance(*name, /*first=*/true);
  if (!instance.ok()) return instance.status();
  Handle close_event = NewEvent();
  if (!close_event.valid()) return LastErrorStatus("CreateEventW");
  return std::make_unique<PipeListener>(
      std::move(address), *std::move(instance), std::move(close_event));
}

std::shared_ptr<Listener> AdoptPipeListener(Handle instance,
                                            std::string address) {
  return std::make_shared<PipeListener>(std::move(address), std::move(instance),
                                        NewEvent());
}

absl::StatusOr<std::unique_ptr<Channel>> ConnectPipe(
    absl::string_view address) {
  if (!absl::StartsWith(address, kPipePrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not a windows Manager address (",
                     kPipePrefix, "...)"));
  }
  absl::StatusOr<std::wstring> name = Utf8ToWide(address);
  if (!name.ok()) return name.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    HANDLE pipe = CreateFileW(
        name->c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
        nullptr);
    if (pipe != INVALID_HANDLE_VALUE) {
      return std::make_unique<PipeChannel>(Handle(pipe), /*server=*/false);
    }
    const DWORD error = GetLastError();
    if (error == ERROR_FILE_NOT_FOUND) {
      return absl::UnavailableError(absl::StrCat(
          "nobody listens at ", address,
          " (the Manager has shut down, or its process has ended)"));
    }
    if (error != ERROR_PIPE_BUSY || absl::Now() >= deadline) {
      return Win32ErrorToStatus(error,
                                absl::StrCat("CreateFileW(", address, ")"),
                                "is the Manager overloaded?");
    }
    (void)WaitNamedPipeW(name->c_str(), MillisecondsUntil(deadline));
  }
}

int64_t OpenPipeTransportCount() {
  return open_transports.load(std::memory_order_relaxed);
}

}  // namespace mproc::windows
