// Encoding of LaunchRequest for backends that re-execute the program.
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/internal/lifecycle.h"
#include "api/wire.h"

namespace mproc {
namespace {

constexpr uint64_t kLaunchRequestVersion = 1;

}  // namespace

absl::StatusOr<std::string> EncodeLaunchRequest(const LaunchRequest& request) {
  if (!request.target.registered()) {
    return internal::ClosureNotAllowedError(request.start_method);
  }
  ByteWriter out;
  out.PutVarint(kLaunchRequestVersion);
  out.PutBytes(request.child.name);
  out.PutVarint(request.child.identity.size());
  for (int n : request.child.identity) out.PutSignedVarint(n);
  out.PutBool(request.child.daemon);
  out.PutBool(request.child.kill_on_parent_death);
  out.PutSignedVarint(request.child.parent_pid);
  out.PutBytes(request.child.parent_name);
  out.PutBytes(request.start_method);
  out.PutBytes(request.target.name());
  out.PutBytes(request.target.encoded_args());
  return out.Release();
}

absl::StatusOr<LaunchRequest> DecodeLaunchRequest(absl::string_view bytes) {
  ByteReader in(bytes);
  LaunchRequest request;
  absl::StatusOr<uint64_t> version = in.GetVarint();
  if (!version.ok()) return version.status();
  if (*version != kLaunchRequestVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "launch request version ", *version, " is not ", kLaunchRequestVersion,
        "; parent and child must be the same build of the program"));
  }
  absl::Status status;
  auto bytes_field = [&](std::string& field) {
    if (!status.ok()) return;
    absl::StatusOr<absl::string_view> v = in.GetBytes();
    if (v.ok())
      field = std::string(*v);
    else
      status = v.status();
  };
  auto bool_field = [&](bool& field) {
    if (!status.ok()) return;
    absl::StatusOr<bool> v = in.GetBool();
    if (v.ok())
      field = *v;
    else
      status = v.status();
  };
  bytes_field(request.child.name);
  if (status.ok()) {
    absl::StatusOr<uint64_t> count = in.GetCount(1);
    if (!count.ok()) return count.status();
    for (uint64_t i = 0; i < *count; ++i) {
      absl::StatusOr<int64_t> n = in.GetSignedVarint();
      if (!n.ok()) return n.status();
      if (*n < std::numeric_limits<int>::min() ||
          *n > std::numeric_limits<int>::max()) {
        return absl::InvalidArgumentError(
            "malformed launch request: identity number out of range");
      }
      request.child.identity.push_back(static_cast<int>(*n));
    }
  }
  bool_field(request.child.daemon);
  bool_field(request.child.kill_on_parent_death);
  if (status.ok()) {
    absl::StatusOr<int64_t> pid = in.GetSignedVarint();
    if (pid.ok())
      request.child.parent_pid = *pid;
    else
      status = pid.status();
  }
  bytes_field(request.child.parent_name);
  bytes_field(request.start_method);
  std::string target_name, args;
  bytes_field(target_name);
  bytes_field(args);
  if (!status.ok()) return status;
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  request.target =
      TargetCall::FromRegistered(std::move(target_name), std::move(args));
  return request;
}

}  // namespace mproc
