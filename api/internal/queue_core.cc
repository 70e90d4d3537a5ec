// The type-free core of Queue<T> (queue_core.h).
#include "api/internal/queue_core.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "gsl/util"

namespace mproc::internal {
namespace {

[[nodiscard]] absl::Status ClosedQueueError() {
  return absl::FailedPreconditionError(
      "Queue is closed; this process closed it (Close), so it can neither put "
      "nor get");
}

// What is left of `deadline`, for the primitives' timeouts.
absl::Duration Remaining(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return absl::InfiniteDuration();
  if (deadline == absl::InfinitePast()) return absl::ZeroDuration();
  return std::max(deadline - ForkSafeNow(), absl::ZeroDuration());
}

// Takes `lock` by `deadline`: true when taken, false at the deadline. A
// holder that died hands the lock over (kAborted): taken all the same.
[[nodiscard]] absl::StatusOr<bool> TakeLock(const Lock& lock,
                                            absl::Time deadline) {
  absl::StatusOr<bool> taken = lock.Acquire(Remaining(deadline));
  if (absl::IsAborted(taken.status())) return true;
  return taken;
}

}  // namespace

QueueCore::QueueCore(std::shared_ptr<ConnectionCore> reader,
                     std::shared_ptr<ConnectionCore> writer, Lock read_lock,
                     Lock write_lock, std::optional<Semaphore> slots,
                     RawValue<int64_t> size, int64_t maxsize)
    : reader_(std::move(reader)),
      writer_(std::move(writer)),
      read_lock_(std::move(read_lock)),
      write_lock_(std::move(write_lock)),
      slots_(std::move(slots)),
      size_(std::move(size)),
      maxsize_(maxsize) {}

absl::StatusOr<std::shared_ptr<QueueCore>> QueueCore::Create(const Context& ctx,
                                                             int64_t maxsize) {
  maxsize = std::max<int64_t>(maxsize, 0);
  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ends =
      ctx.backend().ChannelPair();
  if (!ends.ok()) return ends.status();
  auto reader = std::make_shared<ConnectionCore>(
      &ctx.backend(), std::move((*ends)[0]), /*readable=*/true,
      /*writable=*/false);
  auto writer = std::make_shared<ConnectionCore>(
      &ctx.backend(), std::move((*ends)[1]), /*readable=*/false,
      /*writable=*/true);
  absl::StatusOr<Lock> read_lock = Lock::Create(ctx);
  if (!read_lock.ok()) return read_lock.status();
  absl::StatusOr<Lock> write_lock = Lock::Create(ctx);
  if (!write_lock.ok()) return write_lock.status();
  std::optional<Semaphore> slots;
  if (maxsize > 0) {
    absl::StatusOr<Semaphore> semaphore = Semaphore::Create(ctx, maxsize);
    if (!semaphore.ok()) return semaphore.status();
    slots = *std::move(semaphore);
  }
  absl::StatusOr<RawValue<int64_t>> size = RawValue<int64_t>::Create(ctx, 0);
  if (!size.ok()) return size.status();
  return std::make_shared<QueueCore>(
      std::move(reader), std::move(writer), *std::move(read_lock),
      *std::move(write_lock), std::move(slots), *std::move(size), maxsize);
}

absl::Status QueueCore::Put(absl::string_view item, absl::Time deadline) {
  if (closed()) return ClosedQueueError();
  if (item.size() > kMaxMessageBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("an item of ", item.size(), " bytes exceeds the limit of ",
                     kMaxMessageBytes, " bytes; nothing was put"));
  }
  bool put = false;
  if (slots_.has_value()) {
    absl::StatusOr<bool> slot = slots_->Acquire(Remaining(deadline));
    if (!slot.ok()) return slot.status();
    if (!*slot) {
      return absl::DeadlineExceededError(absl::StrCat(
          "queue is full: its ", maxsize_,
          " items were not taken before the deadline (CPython's Full)"));
    }
  }
  // A slot taken for an item that was not put goes back (also on unwind).
  const auto give_back = gsl::finally([this, &put] {
    if (!put && slots_.has_value()) (void)slots_->Release();
  });
  absl::StatusOr<bool> locked = TakeLock(write_lock_, deadline);
  if (!locked.ok()) return locked.status();
  if (!*locked) {
    return absl::DeadlineExceededError(
        "other producers held the queue until the deadline; nothing was put");
  }
  absl::Status sent;
  {
    const auto unlock = gsl::finally([this] { (void)write_lock_.Release(); });
    sent = writer_->Send(item);
  }
  if (!sent.ok()) return sent;
  size_.FetchAdd(1);
  put = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> QueueCore::Get(absl::Time deadline) {
  if (closed()) return ClosedQueueError();
  const auto empty = [] {
    return absl::DeadlineExceededError(
        "queue is empty: no item arrived before the deadline (CPython's "
        "Empty)");
  };
  absl::StatusOr<bool> locked = TakeLock(read_lock_, deadline);
  if (!locked.ok()) return locked.status();
  if (!*locked) return empty();
  absl::StatusOr<std::string> item;
  {
    const auto unlock = gsl::finally([this] { (void)read_lock_.Release(); });
    item = reader_->RecvWhole(deadline);
  }
  if (absl::IsDeadlineExceeded(item.status())) return empty();
  if (!item.ok()) return item.status();
  size_.FetchAdd(-1);
  if (slots_.has_value()) (void)slots_->Release();
  return item;
}

int64_t QueueCore::QSize() const { return std::max<int64_t>(size_.Load(), 0); }

void QueueCore::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  reader_->Close();
  writer_->Close();
}

void QueueCore::Encode(ByteWriter& out) const {
  out.PutVarint(static_cast<uint64_t>(maxsize_));
  Codec<Lock>::Encode(read_lock_, out);
  Codec<Lock>::Encode(write_lock_, out);
  out.PutBool(slots_.has_value());
  if (slots_.has_value()) Codec<Semaphore>::Encode(*slots_, out);
  Codec<RawValue<int64_t>>::Encode(size_, out);
  EncodeConnectionCore(*reader_, out);
  EncodeConnectionCore(*writer_, out);
}

absl::StatusOr<std::shared_ptr<QueueCore>> QueueCore::Decode(ByteReader& in) {
  absl::StatusOr<uint64_t> maxsize = in.GetVarint();
  if (!maxsize.ok()) return maxsize.status();
  absl::StatusOr<Lock> read_lock = Codec<Lock>::Decode(in);
  if (!read_lock.ok()) return read_lock.status();
  absl::StatusOr<Lock> write_lock = Codec<Lock>::Decode(in);
  if (!write_lock.ok()) return write_lock.status();
  absl::StatusOr<bool> bounded = in.GetBool();
  if (!bounded.ok()) return bounded.status();
  std::optional<Semaphore> slots;
  if (*bounded) {
    absl::StatusOr<Semaphore> semaphore = Codec<Semaphore>::Decode(in);
    if (!semaphore.ok()) return semaphore.status();
    slots = *std::move(semaphore);
  }
  absl::StatusOr<RawValue<int64_t>> size = Codec<RawValue<int64_t>>::Decode(in);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::shared_ptr<ConnectionCore>> reader =
      DecodeConnectionCore(in);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::shared_ptr<ConnectionCore>> writer =
      DecodeConnectionCore(in);
  if (!writer.ok()) return writer.status();
  if (!(*reader)->readable() || !(*writer)->writable() ||
      *maxsize > static_cast<uint64_t>(INT64_MAX) ||
      *bounded != (*maxsize > 0)) {
    return absl::InvalidArgumentError("malformed launch request: a Queue");
  }
  return std::make_shared<QueueCore>(
      *std::move(reader), *std::move(writer), *std::move(read_lock),
      *std::move(write_lock), std::move(slots), *std::move(size),
      static_cast<int64_t>(*maxsize));
}

}  // namespace mproc::internal
