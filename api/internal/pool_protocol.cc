#include "api/internal/pool_protocol.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/wire.h"
#include "gsl/assert"

namespace mproc::internal {
namespace {

enum FrameKind : uint64_t { kTask = 1, kStop = 2, kResult = 3 };
enum ReferenceKind : uint64_t { kByName = 0, kByAddress = 1 };

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed mproc pool frame: ", what));
}

}  // namespace

TaskFrameWriter::TaskFrameWriter(uint64_t batch, const TaskReference& function,
                                 size_t count) {
  out_.PutVarint(kTask);
  out_.PutVarint(batch);
  if (function.name.empty()) {
    out_.PutVarint(kByAddress);
    out_.PutFixed64(reinterpret_cast<uintptr_t>(function.by_address.thunk));
    out_.PutFixed64(function.by_address.function);
  } else {
    out_.PutVarint(kByName);
    out_.PutBytes(function.name);
  }
  out_.PutVarint(count);
}

ResultFrameWriter::ResultFrameWriter(uint64_t batch, size_t count) {
  out_.PutVarint(kResult);
  out_.PutVarint(batch);
  out_.PutVarint(count);
}

void ResultFrameWriter::AddValue(absl::string_view encoded_value) {
  out_.PutBool(false);
  out_.PutBytes(encoded_value);
}

void ResultFrameWriter::AddError(const absl::Status& error) {
  Expects(!error.ok());
  out_.PutBool(true);
  out_.PutVarint(static_cast<uint64_t>(error.code()));
  out_.PutBytes(error.message());
}

std::string EncodeTaskFrame(uint64_t batch, const TaskReference& function,
                            const std::vector<std::string>& items) {
  TaskFrameWriter frame(batch, function, items.size());
  for (const std::string& item : items) frame.AddItem(item);
  return frame.Release();
}

std::string EncodeStopFrame() {
  ByteWriter out;
  out.PutVarint(kStop);
  return out.Release();
}

absl::StatusOr<std::variant<TaskFrame, StopFrame>> DecodeWorkerFrame(
    absl::string_view bytes) {
  ByteReader in(bytes);
  absl::StatusOr<uint64_t> kind = in.GetVarint();
  if (!kind.ok()) return kind.status();
  if (*kind == kStop) {
    if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
    return StopFrame{};
  }
  if (*kind != kTask) return Malformed(absl::StrCat("unknown kind ", *kind));
  TaskFrame frame;
  absl::StatusOr<uint64_t> batch = in.GetVarint();
  if (!batch.ok()) return batch.status();
  frame.batch = *batch;
  absl::StatusOr<uint64_t> reference = in.GetVarint();
  if (!reference.ok()) return reference.status();
  if (*reference == kByName) {
    absl::StatusOr<absl::string_view> name = in.GetBytes();
    if (!name.ok()) return name.status();
    if (name->empty()) return Malformed("empty task name");
    frame.function.name = std::string(*name);
  } else if (*reference == kByAddress) {
    absl::StatusOr<uint64_t> thunk = in.GetFixed64();
    if (!thunk.ok()) return thunk.status();
    absl::StatusOr<uint64_t> function = in.GetFixed64();
    if (!function.ok()) return function.status();
    frame.function.by_address.thunk =
        reinterpret_cast<TaskThunk>(static_cast<uintptr_t>(*thunk));
    frame.function.by_address.function = static_cast<FunctionKey>(*function);
  } else {
    return Malformed(absl::StrCat("unknown function reference ", *reference));
  }
  absl::StatusOr<uint64_t> count = in.GetCount(1);
  if (!count.ok()) return count.status();
  frame.items.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<absl::string_view> item = in.GetBytes();
    if (!item.ok()) return item.status();
    frame.items.push_back(*item);
  }
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return frame;
}

namespace {

// Reads a result frame's kind and batch id.
absl::StatusOr<uint64_t> ReadResultHeader(ByteReader& in) {
  absl::StatusOr<uint64_t> kind = in.GetVarint();
  if (!kind.ok()) return kind.status();
  if (*kind != kResult) return Malformed(absl::StrCat("unknown kind ", *kind));
  return in.GetVarint();
}

}  // namespace

absl::StatusOr<uint64_t> ResultFrameBatch(absl::string_view bytes) {
  ByteReader in(bytes);
  return ReadResultHeader(in);
}

absl::StatusOr<ResultFrame> DecodeResultFrame(absl::string_view bytes) {
  ByteReader in(bytes);
  ResultFrame frame;
  absl::StatusOr<uint64_t> batch = ReadResultHeader(in);
  if (!batch.ok()) return batch.status();
  frame.batch = *batch;
  absl::StatusOr<uint64_t> count = in.GetCount(2);
  if (!count.ok()) return count.status();
  frame.items.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<bool> failed = in.GetBool();
    if (!failed.ok()) return failed.status();
    if (!*failed) {
      absl::StatusOr<absl::string_view> value = in.GetBytes();
      if (!value.ok()) return value.status();
      frame.items.emplace_back(*value);
      continue;
    }
    absl::StatusOr<uint64_t> code = in.GetVarint();
    if (!code.ok()) return code.status();
    absl::StatusOr<absl::string_view> message = in.GetBytes();
    if (!message.ok()) return message.status();
    if (*code == 0 ||
        *code > static_cast<uint64_t>(absl::StatusCode::kUnauthenticated)) {
      return Malformed(
          absl::StrCat("status code ", *code, " for a failed item"));
    }
    frame.items.emplace_back(
        absl::Status(static_cast<absl::StatusCode>(*code), *message));
  }
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return frame;
}

}  // namespace mproc::internal
