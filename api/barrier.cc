// Barrier (api/barrier.h), on a Condition, as threading.Barrier, plus a
// check that the parties waiting are alive.
#include "api/barrier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "gsl/util"

namespace mproc {
namespace {

constexpr int64_t kMostParties = int64_t{1} << 20;
constexpr absl::Duration kSlice = absl::Milliseconds(200);

absl::Status BrokenError(absl::string_view why) {
  return absl::AbortedError(absl::StrCat("broken barrier: ", why));
}

}  // namespace

absl::StatusOr<Barrier> Barrier::Create(const Context& ctx, int64_t parties) {
  if (parties < 1 || parties > kMostParties) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a Barrier needs 1 to ", kMostParties, " parties, not ", parties));
  }
  absl::StatusOr<internal::LockCore> lock =
      internal::LockCore::Create(ctx.backend(), /*recursive=*/false);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<Condition> condition =
      Condition::WithLock(ctx, *std::move(lock));
  if (!condition.ok()) return condition.status();
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::CreateSharedParts(
          ctx.backend(),
          sizeof(internal::BarrierState) + parties * sizeof(int64_t), 0);
  if (!parts.ok()) return parts.status();
  internal::ConstructState<internal::BarrierState>(**parts).parties = parties;
  return Barrier(*std::move(condition), *std::move(parts));
}

int64_t* Barrier::waiting_pids() const {
  return reinterpret_cast<int64_t*>(parts_->base() +
                                    sizeof(internal::BarrierState));
}

int64_t Barrier::parties() const { return state().parties; }

void Barrier::Break() const {
  state().broken = true;
  (void)condition_.NotifyAll();
}

absl::Status Barrier::Lock() const {
  absl::StatusOr<bool> locked = condition_.Acquire();
  if (locked.ok()) return absl::OkStatus();
  if (absl::IsAborted(locked.status())) {
    // Its holder died mid-update: nobody can trust the state any more.
    Break();
    return absl::OkStatus();
  }
  return locked.status();
}

absl::StatusOr<int64_t> Barrier::Wait(absl::Duration timeout) const {
  if (absl::Status locked = Lock(); !locked.ok()) return locked;
  internal::BarrierState& s = state();
  const auto unlock = gsl::finally([this] { (void)condition_.Release(); });
  if (s.broken) return BrokenError("it was broken before this Wait");
  const int64_t index = s.count;
  waiting_pids()[index] = internal::CallerPid();
  ++s.count;
  if (s.count == s.parties) {
    s.count = 0;
    ++s.generation;
    if (absl::Status woke = condition_.NotifyAll(); !woke.ok()) return woke;
    return index;
  }
  const uint64_t generation = s.generation;
  const absl::Time deadline = internal::DeadlineOf(timeout);
  for (;;) {
    const absl::Time now = ForkSafeNow();
    if (now >= deadline) {
      Break();
      return BrokenError("a Wait timed out");
    }
    absl::StatusOr<bool> woke =
        condition_.Wait(std::min(deadline, now + kSlice) - now);
    if (!woke.ok() && !absl::IsAborted(woke.status())) return woke.status();
    if (!woke.ok()) Break();
    if (s.generation != generation) {
      if (s.reset_generation == generation) {
        return BrokenError("Reset while this caller waited");
      }
      return index;
    }
    if (s.broken) {
      return BrokenError(
          "another party aborted, timed out or died while waiting");
    }
    if (!*woke) {
      for (int64_t i = 0; i < s.count; ++i) {
        if (!parts_->backend->IsProcessAlive(waiting_pids()[i])) {
          const int64_t dead = waiting_pids()[i];
          Break();
          return BrokenError(absl::StrCat("party process ", dead,
                                          " died while waiting at it"));
        }
      }
    }
  }
}

absl::Status Barrier::Abort() const {
  if (absl::Status locked = Lock(); !locked.ok()) return locked;
  Break();
  return condition_.Release();
}

absl::Status Barrier::Reset() const {
  if (absl::Status locked = Lock(); !locked.ok()) return locked;
  internal::BarrierState& s = state();
  if (s.count > 0) {
    s.reset_generation = s.generation;
    ++s.generation;
    s.count = 0;
  }
  s.broken = false;
  (void)condition_.NotifyAll();
  return condition_.Release();
}

absl::StatusOr<int64_t> Barrier::NWaiting() const {
  if (absl::Status locked = Lock(); !locked.ok()) return locked;
  const int64_t count = state().count;
  if (absl::Status s = condition_.Release(); !s.ok()) return s;
  return count;
}

absl::StatusOr<bool> Barrier::Broken() const {
  if (absl::Status locked = Lock(); !locked.ok()) return locked;
  const bool broken = state().broken;
  if (absl::Status s = condition_.Release(); !s.ok()) return s;
  return broken;
}

absl::StatusOr<Barrier> Codec<Barrier>::Decode(ByteReader& in) {
  absl::StatusOr<Condition> condition = Codec<Condition>::Decode(in);
  if (!condition.ok()) return condition.status();
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  const size_t size = (*parts)->memory->bytes().size();
  if (size < sizeof(internal::BarrierState) ||
      internal::StateOf<internal::BarrierState>(**parts).parties >
          static_cast<int64_t>((size - sizeof(internal::BarrierState)) /
                               sizeof(int64_t))) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a Barrier's shared state");
  }
  return Barrier(*std::move(condition), *std::move(parts));
}

}  // namespace mproc
