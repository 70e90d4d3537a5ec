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

absl::Status ReplyTooLarge(size_t size, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the result (", size, " bytes) is too large for one reply (at most ",
      limit, " bytes); read the list item by item with Get"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>*> ManagerStore::FindList(uint64_t id) {
  auto it = lists_.find(id);
  if (it == lists_.end()) {
    return absl::NotFoundError(absl::StrCat("the Manager has no list ", id));
  }
  return &it->second;
}

absl::Status ManagerStore::Apply(Op op, ByteReader& in, ByteWriter& reply) {
  switch (op) {
    case Op::kHello:
      return absl::InvalidArgumentError(
          "Hello is only valid as the first frame of a connection");
    case Op::kShutdown:
    case Op::kSync:
      return absl::OkStatus();
    default:
      break;
  }
  absl::MutexLock lock(&mu_);
  if (op == Op::kCreateList) {
    const uint64_t id = next_list_id_++;
    lists_[id];
    reply.PutVarint(id);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> id = in.GetVarint();
  if (!id.ok()) return id.status();
  absl::StatusOr<std::vector<std::string>*> list = FindList(*id);
  if (!list.ok()) return list.status();
  return ApplyToList(op, **list, in, reply);
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
