#include "api/internal/manager_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mproc::internal {
namespace {

// The bytes PutVarint(value) writes.
size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

absl::Status ReplyTooLarge(
    size_t size, size_t limit,
    absl::string_view what_to_do = "read the list item by item with Get") {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the result (", size, " bytes) is too large for one reply (at most ",
      limit, " bytes); ", what_to_do));
}

constexpr absl::string_view kStoreSmallerItems = "store smaller items";

}  // namespace

absl::Status ManagerStore::Apply(Op op, ByteReader& in, ByteWriter& reply,
                                 const RequestContext& context) {
  switch (op) {
    case Op::kHello:
      return absl::InvalidArgumentError(
          "Hello is only valid as the first frame of a connection");
    case Op::kShutdown:
    case Op::kSync:
      return absl::OkStatus();
    case Op::kQueuePut:
    case Op::kQueueGet:
    case Op::kLockAcquire:
    case Op::kLockRelease:
    case Op::kEventSet:
    case Op::kEventWait:
      return ApplyBlocking(op, in, reply, context);
    default:
      break;
  }
  absl::MutexLock lock(&mu_);
  switch (op) {
    case Op::kCreateList:
    case Op::kCreateDict:
    case Op::kCreateLock:
    case Op::kCreateEvent: {
      const uint64_t id = next_id_++;
      if (op == Op::kCreateList) lists_[id];
      if (op == Op::kCreateDict) dicts_[id] = std::make_unique<Dict>();
      if (op == Op::kCreateLock) locks_[id] = std::make_unique<Lock>();
      if (op == Op::kCreateEvent) events_[id] = std::make_unique<Event>();
      reply.PutVarint(id);
      return absl::OkStatus();
    }
    case Op::kCreateQueue: {
      absl::StatusOr<uint64_t> maxsize = in.GetVarint();
      if (!maxsize.ok()) return maxsize.status();
      const uint64_t id = next_id_++;
      queues_[id] = std::make_unique<Queue>();
      queues_[id]->maxsize = *maxsize;
      reply.PutVarint(id);
      return absl::OkStatus();
    }
    case Op::kCreateValue: {
      absl::StatusOr<absl::string_view> initial = in.GetBytes();
      if (!initial.ok()) return initial.status();
      const uint64_t id = next_id_++;
      values_[id] = std::make_unique<Value>();
      values_[id]->bytes = std::string(*initial);
      reply.PutVarint(id);
      return absl::OkStatus();
    }
    case Op::kAppend:
    case Op::kExtend:
    case Op::kSize:
    case Op::kGet:
    case Op::kSnapshot: {
      absl::StatusOr<uint64_t> id = in.GetVarint();
      if (!id.ok()) return id.status();
      auto it = lists_.find(*id);
      if (it == lists_.end()) {
        return absl::NotFoundError(
            absl::StrCat("the Manager has no list ", *id));
      }
      return ApplyToList(op, it->second, in, reply);
    }
    case Op::kDictSet:
    case Op::kDictSetSync:
    case Op::kDictGet:
    case Op::kDictPop:
    case Op::kDictContains:
    case Op::kDictErase:
    case Op::kDictSize:
    case Op::kDictKeys:
    case Op::kDictItems:
    case Op::kDictClear:
      return ApplyToDict(op, in, reply);
    case Op::kQueueSize: {
      absl::StatusOr<Queue*> queue = Find(queues_, in, "queue");
      if (!queue.ok()) return queue.status();
      reply.PutVarint((*queue)->items.size());
      return absl::OkStatus();
    }
    case Op::kEventClear:
    case Op::kEventIsSet: {
      absl::StatusOr<Event*> event = Find(events_, in, "event");
      if (!event.ok()) return event.status();
      if (op == Op::kEventClear) {
        (*event)->set = false;
      } else {
        reply.PutBool((*event)->set);
      }
      return absl::OkStatus();
    }
    case Op::kValueGet:
    case Op::kValueSet:
    case Op::kValueSetSync:
      return ApplyToValue(op, in, reply);
    default:
      return absl::InvalidArgumentError("malformed request: unknown op");
  }
}

absl::Status ManagerStore::ApplyToDict(Op op, ByteReader& in,
                                       ByteWriter& reply) {
  absl::StatusOr<Dict*> found = Find(dicts_, in, "dict");
  if (!found.ok()) return found.status();
  absl::flat_hash_map<std::string, std::string>& items = (*found)->items;
  switch (op) {
    case Op::kDictSize:
      reply.PutVarint(items.size());
      return absl::OkStatus();
    case Op::kDictClear:
      items.clear();
      return absl::OkStatus();
    case Op::kDictKeys:
    case Op::kDictItems: {
      const bool with_values = op == Op::kDictItems;
      size_t needed = VarintSize(items.size());
      for (const auto& [key, value] : items) {
        needed += VarintSize(key.size()) + key.size();
        if (with_values) needed += VarintSize(value.size()) + value.size();
      }
      if (needed > max_reply_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the result (", needed,
            " bytes) is too large for one reply (at most ", max_reply_,
            " bytes); read the dict key by key with Get"));
      }
      reply.PutVarint(items.size());
      for (const auto& [key, value] : items) {
        reply.PutBytes(key);
        if (with_values) reply.PutBytes(value);
      }
      return absl::OkStatus();
    }
    default:
      break;
  }
  absl::StatusOr<absl::string_view> key = in.GetBytes();
  if (!key.ok()) return key.status();
  switch (op) {
    case Op::kDictSet:
    case Op::kDictSetSync: {
      absl::StatusOr<absl::string_view> value = in.GetBytes();
      if (!value.ok()) return value.status();
      items.insert_or_assign(std::string(*key), std::string(*value));
      return absl::OkStatus();
    }
    case Op::kDictGet: {
      auto it = items.find(*key);
      reply.PutBool(it != items.end());
      if (it != items.end()) {
        if (VarintSize(it->second.size()) + it->second.size() + 1 >
            max_reply_) {
          return ReplyTooLarge(it->second.size(), max_reply_,
                               kStoreSmallerItems);
        }
        reply.PutBytes(it->second);
      }
      return absl::OkStatus();
    }
    case Op::kDictContains:
      reply.PutBool(items.contains(*key));
      return absl::OkStatus();
    case Op::kDictPop:
    case Op::kDictErase: {
      auto it = items.find(*key);
      if (it == items.end()) {
        return absl::NotFoundError(
            "no such key in the Manager dict; check Contains first");
      }
      if (op == Op::kDictPop) {
        if (VarintSize(it->second.size()) + it->second.size() > max_reply_) {
          return ReplyTooLarge(it->second.size(), max_reply_,
                               kStoreSmallerItems);
        }
        reply.PutBytes(it->second);
      }
      items.erase(it);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("malformed request: unexpected op");
  }
}

absl::Status ManagerStore::ApplyToValue(Op op, ByteReader& in,
                                        ByteWriter& reply) {
  absl::StatusOr<Value*> value = Find(values_, in, "value");
  if (!value.ok()) return value.status();
  if (op == Op::kValueGet) {
    const std::string& bytes = (*value)->bytes;
    if (VarintSize(bytes.size()) + bytes.size() > max_reply_) {
      return ReplyTooLarge(bytes.size(), max_reply_, kStoreSmallerItems);
    }
    reply.PutBytes(bytes);
    return absl::OkStatus();
  }
  absl::StatusOr<absl::string_view> bytes = in.GetBytes();
  if (!bytes.ok()) return bytes.status();
  (*value)->bytes = std::string(*bytes);
  return absl::OkStatus();
}

absl::Status ManagerStore::ApplyToList(Op op, std::vector<std::string>& list,
                                       ByteReader& in, ByteWriter& reply) {
  switch (op) {
    case Op::kAppend: {
      absl::StatusOr<absl::string_view> item = in.GetBytes();
      if (!item.ok()) return item.status();
      list.emplace_back(*item);
      return absl::OkStatus();
    }
    case Op::kExtend: {
      absl::StatusOr<uint64_t> count = in.GetCount(1);
      if (!count.ok()) return count.status();
      for (uint64_t i = 0; i < *count; ++i) {
        absl::StatusOr<absl::string_view> item = in.GetBytes();
        if (!item.ok()) return item.status();
        list.emplace_back(*item);
      }
      return absl::OkStatus();
    }
    case Op::kSize:
      reply.PutVarint(list.size());
      return absl::OkStatus();
    case Op::kGet: {
      absl::StatusOr<int64_t> index = in.GetSignedVarint();
      if (!index.ok()) return index.status();
      const auto size = static_cast<int64_t>(list.size());
      const int64_t at = *index < 0 ? *index + size : *index;
      if (at < 0 || at >= size) {
        return absl::OutOfRangeError(absl::StrCat(
            "list index out of range: ", *index, " with ", size, " items"));
      }
      const std::string& item = list[static_cast<size_t>(at)];
      const size_t needed = VarintSize(item.size()) + item.size();
      if (needed > max_reply_) return ReplyTooLarge(needed, max_reply_);
      reply.PutBytes(item);
      return absl::OkStatus();
    }
    case Op::kSnapshot: {
      size_t needed = VarintSize(list.size());
      for (const std::string& item : list) {
        needed += VarintSize(item.size()) + item.size();
      }
      if (needed > max_reply_) return ReplyTooLarge(needed, max_reply_);
      reply.PutVarint(list.size());
      for (const std::string& item : list) reply.PutBytes(item);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("malformed request: unexpected op");
  }
}

}  // namespace mproc::internal
