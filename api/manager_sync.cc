#include "api/manager_sync.h"

#include <string>

namespace mproc {
namespace {

std::string TimeoutField(absl::Duration timeout) {
  ByteWriter out;
  out.PutSignedVarint(internal::WireTimeout(timeout));
  return out.Release();
}

}  // namespace

absl::StatusOr<bool> LockProxy::Acquire(absl::Duration timeout) const {
  if (absl::Status s = handle_.CheckBound("LockProxy", "Lock()"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> body =
      handle_.Call(internal::Op::kLockAcquire, TimeoutField(timeout));
  if (!body.ok()) return body.status();
  return internal::ReadBool(*body);
}

absl::Status LockProxy::Release() const {
  if (absl::Status s = handle_.CheckBound("LockProxy", "Lock()"); !s.ok()) {
    return s;
  }
  return handle_.Call(internal::Op::kLockRelease).status();
}

absl::StatusOr<bool> EventProxy::IsSet() const {
  if (absl::Status s = handle_.CheckBound("EventProxy", "Event()"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> body = handle_.Call(internal::Op::kEventIsSet);
  if (!body.ok()) return body.status();
  return internal::ReadBool(*body);
}

absl::Status EventProxy::Set() const {
  if (absl::Status s = handle_.CheckBound("EventProxy", "Event()"); !s.ok()) {
    return s;
  }
  return handle_.Call(internal::Op::kEventSet).status();
}

absl::Status EventProxy::Clear() const {
  if (absl::Status s = handle_.CheckBound("EventProxy", "Event()"); !s.ok()) {
    return s;
  }
  return handle_.Call(internal::Op::kEventClear).status();
}

absl::StatusOr<bool> EventProxy::Wait(absl::Duration timeout) const {
  if (absl::Status s = handle_.CheckBound("EventProxy", "Event()"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> body =
      handle_.Call(internal::Op::kEventWait, TimeoutField(timeout));
  if (!body.ok()) return body.status();
  return internal::ReadBool(*body);
}

}  // namespace mproc
