// -----------------------------------------------------------------------------
// File: backends/posix/lock_free_int_set.h
// -----------------------------------------------------------------------------
//
// POSIX only: a process-wide set of non-negative integers (descriptors, pids)
// that takes no lock, so a child forked while another thread changes it can
// still read and clear it. Storage grows in chunks and is never freed.

#ifndef MPROC_BACKENDS_POSIX_LOCK_FREE_INT_SET_H_
#define MPROC_BACKENDS_POSIX_LOCK_FREE_INT_SET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mproc::posix {

// LockFreeIntSet
//
// Insert, Erase and ForEach may run concurrently from any thread. A value
// inserted twice is held twice. Constant-initialised (a slot holds value + 1,
// 0 means empty), so a static instance is usable during static init.
class LockFreeIntSet {
 public:
  constexpr LockFreeIntSet() = default;
  LockFreeIntSet(const LockFreeIntSet&) = delete;
  LockFreeIntSet& operator=(const LockFreeIntSet&) = delete;

  // Adds `value` (>= 0). Allocates a new chunk when every slot is taken.
  void Insert(int64_t value) {
    const int64_t stored = value + 1;
    Chunk* chunk = &first_;
    while (true) {
      for (std::atomic<int64_t>& slot : chunk->slots) {
        int64_t expected = 0;
        if (slot.load(std::memory_order_relaxed) == 0 &&
            slot.compare_exchange_strong(expected, stored,
                                         std::memory_order_acq_rel)) {
          return;
        }
      }
      Chunk* next = chunk->next.load(std::memory_order_acquire);
      if (next == nullptr) {
        auto* fresh = new Chunk;  // never freed: forked children may read it
        if (chunk->next.compare_exchange_strong(next, fresh,
                                                std::memory_order_acq_rel)) {
          next = fresh;
        } else {
          delete fresh;  // another thread appended first; `next` is its chunk
        }
      }
      chunk = next;
    }
  }

  // Removes one copy of `value`; returns false when it was not held.
  bool Erase(int64_t value) {
    const int64_t stored = value + 1;
    for (Chunk* chunk = &first_; chunk != nullptr;
         chunk = chunk->next.load(std::memory_order_acquire)) {
      for (std::atomic<int64_t>& slot : chunk->slots) {
        int64_t expected = stored;
        if (slot.load(std::memory_order_relaxed) == stored &&
            slot.compare_exchange_strong(expected, 0,
                                         std::memory_order_acq_rel)) {
          return true;
        }
      }
    }
    return false;
  }

  // Calls `visit(value)` for each value held; when it returns true the value
  // is removed. Returns how many values this call removed.
  template <typename Visit>
  int ForEachMaybeErase(Visit visit) {
    int erased = 0;
    for (Chunk* chunk = &first_; chunk != nullptr;
         chunk = chunk->next.load(std::memory_order_acquire)) {
      for (std::atomic<int64_t>& slot : chunk->slots) {
        int64_t stored = slot.load(std::memory_order_acquire);
        if (stored == 0) continue;
        if (visit(stored - 1) && slot.compare_exchange_strong(
                                     stored, 0, std::memory_order_acq_rel)) {
          ++erased;
        }
      }
    }
    return erased;
  }

 private:
  static constexpr size_t kSlotsPerChunk = 128;
  struct Chunk {
    std::atomic<int64_t> slots[kSlotsPerChunk] = {};
    std::atomic<Chunk*> next{nullptr};
  };
  Chunk first_;
};

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_LOCK_FREE_INT_SET_H_
