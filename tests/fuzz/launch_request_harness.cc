// DecodeLaunchRequest on arbitrary bytes, with a round trip.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "tests/fuzz/harnesses.h"

namespace mproc::fuzz {
namespace {

bool SameRequest(const LaunchRequest& a, const LaunchRequest& b) {
  return a.child.name == b.child.name && a.child.identity == b.child.identity &&
         a.child.daemon == b.child.daemon &&
         a.child.kill_on_parent_death == b.child.kill_on_parent_death &&
         a.child.parent_pid == b.child.parent_pid &&
         a.child.parent_name == b.child.parent_name &&
         a.start_method == b.start_method &&
         a.target.name() == b.target.name() &&
         a.target.encoded_args() == b.target.encoded_args() &&
         a.listener == nullptr && b.listener == nullptr;
}

}  // namespace

absl::Status FuzzLaunchRequest(absl::string_view data) {
  absl::StatusOr<LaunchRequest> request = DecodeLaunchRequest(data);
  if (!request.ok()) {
    if (!absl::IsInvalidArgument(request.status())) {
      return absl::InternalError(
          absl::StrCat("DecodeLaunchRequest failed with an undocumented code: ",
                       request.status().ToString()));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(*request);
  if (!encoded.ok()) {
    // Only a request without a registered target cannot be encoded.
    if (request->target.registered()) {
      return absl::InternalError(absl::StrCat(
          "a decoded request does not encode: ", encoded.status().ToString()));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<LaunchRequest> again = DecodeLaunchRequest(*encoded);
  if (!again.ok()) {
    return absl::InternalError(
        absl::StrCat("the encoding of a decoded request does not decode: ",
                     again.status().ToString()));
  }
  if (!SameRequest(*request, *again)) {
    return absl::InternalError("decode(encode(request)) != request");
  }
  absl::StatusOr<std::string> reencoded = EncodeLaunchRequest(*again);
  if (!reencoded.ok() || *reencoded != *encoded) {
    return absl::InternalError(
        "encode(decode(encode(request))) != encode(request)");
  }
  return absl::OkStatus();
}

}  // namespace mproc::fuzz
