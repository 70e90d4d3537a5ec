#include "api/target.h"

#include "absl/strings/str_cat.h"
#include "api/backend.h"

namespace mproc {

TargetCall TargetCall::FromRegistered(std::string name,
                                      std::string encoded_args) {
  TargetCall call;
  call.name_ = std::move(name);
  call.encoded_args_ = std::move(encoded_args);
  return call;
}

TargetCall TargetCall::FromClosure(
    std::function<absl::StatusOr<int>()> closure) {
  TargetCall call;
  call.closure_ = std::move(closure);
  return call;
}

absl::StatusOr<int> TargetCall::Run() const {
  if (closure_) return closure_();
  if (name_.empty()) {
    return absl::InvalidArgumentError("the target is empty; nothing to run");
  }
  const internal::TargetInvoker* invoker = internal::FindTargetInvoker(name_);
  if (invoker == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "target '", name_,
        "' is not registered in this program; register it with "
        "MPROC_REGISTER_TARGET in a file linked into the program"));
  }
  ByteReader args(encoded_args_);
  return (*invoker)(args);
}

void RunChildIfRequested(int argc, char** argv) {
  for (Backend* backend : RegisteredBackends()) {
    backend->RunChildIfRequested(argc, argv);
  }
}

}  // namespace mproc
