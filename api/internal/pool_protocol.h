// -----------------------------------------------------------------------------
// File: api/internal/pool_protocol.h
// -----------------------------------------------------------------------------
//
// Internal: the frames a Pool and its workers exchange (docs/design.md §12),
// each one Connection message with a varint kind first:
//
//   kTask    pool -> worker  batch id, function reference, count, the
//                            encoded argument tuples of one chunk
//   kStop    pool -> worker  (nothing): finish, return 0
//   kResult  worker -> pool  batch id, count, per item 0 + encoded value or
//                            1 + status code + message; batch 0 (no task's
//                            id) with one failed item: the worker's
//                            initializer failed with that error
//
// Decoding never crashes: malformed input is `kInvalidArgument`.

#ifndef MPROC_API_INTERNAL_POOL_PROTOCOL_H_
#define MPROC_API_INTERNAL_POOL_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/internal/task_registry.h"
#include "api/wire.h"

namespace mproc::internal {

// How a frame names the function to call: by registered name (every start
// method), or by the addresses of its thunk and itself (only to a worker
// that is a copy of, or shares, the pool's memory: posix:fork, thread).
struct TaskReference {
  std::string name;         // empty: by address
  TaskFunction by_address;  // set when `name` is empty
};

struct TaskFrame {
  uint64_t batch = 0;
  TaskReference function;
  // One encoded argument tuple each: views into the decoded bytes, valid
  // while they are.
  std::vector<absl::string_view> items;
};

struct StopFrame {};

// The batch of the result frame that reports a failed initializer; task
// batches are numbered from 1.
inline constexpr uint64_t kInitializerFailedBatch = 0;

// A decoded result frame: views into the decoded bytes, valid while they
// are.
struct ResultFrame {
  uint64_t batch = 0;
  std::vector<absl::StatusOr<absl::string_view>> items;  // encoded values
};

// Builds one task frame, item by item (no copy of the items but into the
// frame).
class TaskFrameWriter {
 public:
  TaskFrameWriter(uint64_t batch, const TaskReference& function, size_t count);
  // Appends one item's encoded argument tuple; call `count` times.
  void AddItem(absl::string_view encoded_args) { out_.PutBytes(encoded_args); }
  std::string Release() { return out_.Release(); }

 private:
  ByteWriter out_;
};

// Builds one result frame, item by item.
class ResultFrameWriter {
 public:
  ResultFrameWriter(uint64_t batch, size_t count);
  // Appends one item's result; call `count` times in all.
  void AddValue(absl::string_view encoded_value);
  void AddError(const absl::Status& error);  // error: not OK
  std::string Release() { return out_.Release(); }

 private:
  ByteWriter out_;
};

// A whole task frame (TaskFrameWriter over `items`).
std::string EncodeTaskFrame(uint64_t batch, const TaskReference& function,
                            const std::vector<std::string>& items);
std::string EncodeStopFrame();

// A frame a worker receives: a task or a stop.
[[nodiscard]] absl::StatusOr<std::variant<TaskFrame, StopFrame>>
DecodeWorkerFrame(absl::string_view bytes);

// A frame the pool receives.
[[nodiscard]] absl::StatusOr<ResultFrame> DecodeResultFrame(
    absl::string_view bytes);
// The batch id of the result frame `bytes`, read from its header alone.
[[nodiscard]] absl::StatusOr<uint64_t> ResultFrameBatch(
    absl::string_view bytes);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_PROTOCOL_H_
