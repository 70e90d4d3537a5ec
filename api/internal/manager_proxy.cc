#include "api/internal/manager_proxy.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mproc::internal {

absl::Status ProxyHandle::CheckBound(absl::string_view type,
                                     absl::string_view factory) const {
  if (endpoint_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      type, " is not bound to a Manager; get one from Manager::", factory));
}

std::string ProxyHandle::Fields(absl::string_view rest) const {
  ByteWriter out;
  out.PutVarint(id_);
  std::string fields = out.Release();
  fields.append(rest.data(), rest.size());
  return fields;
}

absl::StatusOr<std::string> ProxyHandle::Call(Op op,
                                              absl::string_view rest) const {
  return CallOp(*endpoint_, op, Fields(rest));
}

absl::Status ProxyHandle::Post(Op op, absl::string_view rest) const {
  return PostOp(*endpoint_, op, Fields(rest));
}

void ProxyHandle::Encode(ByteWriter& out) const {
  EncodeEndpoint(endpoint_.get(), out);
  out.PutVarint(id_);
}

absl::StatusOr<ProxyHandle> ProxyHandle::Decode(ByteReader& in) {
  absl::StatusOr<std::shared_ptr<ManagerEndpoint>> endpoint =
      DecodeEndpoint(in);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<uint64_t> id = in.GetVarint();
  if (!id.ok()) return id.status();
  return ProxyHandle(*std::move(endpoint), *id);
}

absl::StatusOr<ProxyHandle> CreateObject(
    std::shared_ptr<ManagerEndpoint> endpoint, Op create,
    absl::string_view fields) {
  absl::StatusOr<std::string> body = CallOp(*endpoint, create, fields);
  if (!body.ok()) return body.status();
  ByteReader in(*body);
  absl::StatusOr<uint64_t> id = in.GetVarint();
  if (!id.ok()) return id.status();
  return ProxyHandle(std::move(endpoint), *id);
}

int64_t WireTimeout(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return kNoTimeout;
  if (timeout <= absl::ZeroDuration()) return 0;
  return absl::ToInt64Microseconds(timeout);
}

absl::StatusOr<bool> ReadBool(absl::string_view body) {
  ByteReader in(body);
  return in.GetBool();
}

absl::StatusOr<int64_t> ReadSize(absl::string_view body) {
  ByteReader in(body);
  absl::StatusOr<uint64_t> size = in.GetVarint();
  if (!size.ok()) return size.status();
  return static_cast<int64_t>(*size);
}

absl::StatusOr<std::string> ReadItem(absl::string_view body) {
  ByteReader in(body);
  absl::StatusOr<absl::string_view> item = in.GetBytes();
  if (!item.ok()) return item.status();
  return std::string(*item);
}

absl::StatusOr<std::vector<std::string>> ReadItems(absl::string_view body,
                                                   int per_entry) {
  ByteReader in(body);
  absl::StatusOr<uint64_t> count = in.GetCount(per_entry);
  if (!count.ok()) return count.status();
  std::vector<std::string> items;
  items.reserve(*count * per_entry);
  for (uint64_t i = 0; i < *count * per_entry; ++i) {
    absl::StatusOr<absl::string_view> item = in.GetBytes();
    if (!item.ok()) return item.status();
    items.emplace_back(*item);
  }
  return items;
}

}  // namespace mproc::internal
