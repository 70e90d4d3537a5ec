// -----------------------------------------------------------------------------
// File: api/internal/manager_proxy.h
// -----------------------------------------------------------------------------
//
// Internal: what every Manager proxy holds (the server's endpoint and the
// object's id), how it travels (its Codec: the endpoint's backend, address
// and authkey, so a proxy reaches any process of the family, running or
// not, through any channel), and the request helpers the proxies share.

#ifndef MPROC_API_INTERNAL_MANAGER_PROXY_H_
#define MPROC_API_INTERNAL_MANAGER_PROXY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"

namespace mproc::internal {

// One object of a Manager, as a proxy names it.
class ProxyHandle {
 public:
  ProxyHandle() = default;
  ProxyHandle(std::shared_ptr<ManagerEndpoint> endpoint, uint64_t id)
      : endpoint_(std::move(endpoint)), id_(id) {}

  // `kFailedPrecondition` naming `type` and `factory` when unbound.
  [[nodiscard]] absl::Status CheckBound(absl::string_view type,
                                        absl::string_view factory) const;
  // Request `op` with fields: the id, then `rest`.
  [[nodiscard]] absl::StatusOr<std::string> Call(
      Op op, absl::string_view rest = {}) const;
  [[nodiscard]] absl::Status Post(Op op, absl::string_view rest) const;

  void Encode(ByteWriter& out) const;
  [[nodiscard]] static absl::StatusOr<ProxyHandle> Decode(ByteReader& in);

 private:
  std::string Fields(absl::string_view rest) const;
  std::shared_ptr<ManagerEndpoint> endpoint_;
  uint64_t id_ = 0;
};

// A new object of the Manager at `endpoint`: request `create` with `fields`.
[[nodiscard]] absl::StatusOr<ProxyHandle> CreateObject(
    std::shared_ptr<ManagerEndpoint> endpoint, Op create,
    absl::string_view fields = {});

// A timeout in its wire form (manager_protocol.h): microseconds, kNoTimeout
// for InfiniteDuration, zero for zero or less.
int64_t WireTimeout(absl::Duration timeout);

// Reply bodies: a bool; a varint; one byte string; a count of byte strings
// (`per_entry` of them each, e.g. 2 for a dict's items).
[[nodiscard]] absl::StatusOr<bool> ReadBool(absl::string_view body);
[[nodiscard]] absl::StatusOr<int64_t> ReadSize(absl::string_view body);
[[nodiscard]] absl::StatusOr<std::string> ReadItem(absl::string_view body);
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ReadItems(
    absl::string_view body, int per_entry);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_PROXY_H_
