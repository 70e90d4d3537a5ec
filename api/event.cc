// Event (api/event.h). Waiters count themselves in `waiters`; Set raises the
// flag and, when it was down, bumps `generation` and posts one wake-up per
// waiter. A waiter
// returns when the flag is up or the generation moved since it began, so a
// Set followed at once by Clear still releases it. A wake-up taken by a
// newer waiter delays an older one by at most one slice (100 ms).
#include "api/event.h"

#include <algorithm>
#include <utility>

#include "api/fork_safety.h"
#include "gsl/util"

namespace mproc {
namespace {

constexpr absl::Duration kSlice = absl::Milliseconds(100);

}  // namespace

absl::StatusOr<Event> Event::Create(const Context& ctx) {
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::CreateSharedParts(ctx.backend(), sizeof(internal::EventState),
                                  1);
  if (!parts.ok()) return parts.status();
  internal::ConstructState<internal::EventState>(**parts);
  return Event(*std::move(parts));
}

bool Event::IsSet() const { return state().flag.load() != 0; }

absl::Status Event::Set() const {
  internal::EventState& s = state();
  // Only the raise wakes: a waiter never sleeps while the flag is up (it
  // checks after counting itself), so a Set of a raised flag has nobody to
  // wake, and posting would only pile up stale wake-ups.
  if (s.flag.exchange(1) != 0) return absl::OkStatus();
  s.generation.fetch_add(1);
  const uint32_t waiters = s.waiters.load();
  for (uint32_t i = 0; i < waiters; ++i) {
    if (absl::Status posted = parts_->semaphore(0).Release(); !posted.ok()) {
      return posted;
    }
  }
  return absl::OkStatus();
}

void Event::Clear() const { state().flag.store(0); }

absl::StatusOr<bool> Event::Wait(absl::Duration timeout) const {
  internal::EventState& s = state();
  if (s.flag.load() != 0) return true;
  const absl::Time deadline = internal::DeadlineOf(timeout);
  if (deadline == absl::InfinitePast()) return false;
  const uint64_t generation = s.generation.load();
  s.waiters.fetch_add(1);
  const auto leave = gsl::finally([&s] { s.waiters.fetch_sub(1); });
  for (;;) {
    if (s.flag.load() != 0 || s.generation.load() != generation) return true;
    const absl::Time now = ForkSafeNow();
    if (now >= deadline) return false;
    absl::StatusOr<bool> woke = internal::SleepOn(
        parts_->semaphore(0), std::min(deadline, now + kSlice));
    if (!woke.ok()) return woke.status();
  }
}

absl::StatusOr<Event> Codec<Event>::Decode(ByteReader& in) {
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  if ((*parts)->memory->bytes().size() < sizeof(internal::EventState) ||
      (*parts)->semaphores.size() != 1) {
    return absl::InvalidArgumentError(
        "malformed launch request: not an Event's shared state");
  }
  return Event(*std::move(parts));
}

}  // namespace mproc
