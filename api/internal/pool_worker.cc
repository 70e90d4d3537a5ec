#include "api/internal/pool_worker.h"

#include <exception>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "api/cancellation.h"
#include "api/exit.h"
#include "api/internal/handover.h"
#include "api/internal/pool_protocol.h"
#include "api/internal/task_registry.h"
#include "api/target.h"

namespace mproc::internal {
namespace {

absl::StatusOr<TaskFunction> Resolve(const TaskReference& reference,
                                     bool by_address) {
  if (reference.name.empty()) {
    if (!by_address) {
      return absl::InvalidArgumentError(
          "this worker cannot call a task by address (it does not share its "
          "pool's memory); register the task with MPROC_REGISTER_TASK");
    }
    return reference.by_address;
  }
  std::optional<TaskFunction> task = FindTaskFunction(reference.name);
  if (!task.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "task '", reference.name,
        "' is not registered in the worker's program; register it with "
        "MPROC_REGISTER_TASK in a file linked into the program"));
  }
  return *task;
}

// Calls `call`; an exception becomes `kUnknown` "<who> raised: <what>"
// (cancellation and mproc::Exit unwind the worker: for a task, the pool
// then fails its batch).
template <typename Call>
absl::Status CatchingExceptions(absl::string_view who, Call call) {
  try {
    return call();
  } catch (const ProcessCancelled&) {
    throw;
  } catch (const ProcessExit&) {
    throw;
  } catch (const std::exception& e) {
    return absl::UnknownError(absl::StrCat(who, " raised: ", e.what()));
  } catch (...) {
    return absl::UnknownError(
        absl::StrCat(who, " raised an exception that is not a std::exception"));
  }
}

// Runs one item, its encoded result appended to `result`.
absl::Status RunItem(const TaskFunction& task, absl::string_view args,
                     ByteWriter& result) {
  return CatchingExceptions("task", [&] {
    ByteReader in(args);
    return task.thunk(task.function, in, result);
  });
}

}  // namespace

absl::Status WorkerInitializer::Run() const {
  if (call.empty()) return absl::OkStatus();
  return CatchingExceptions("initializer", [this]() -> absl::Status {
    ScopedHandoverTable scope(table);
    absl::StatusOr<int> code = call.Run();
    if (!code.ok()) return code.status();
    if (*code != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("initializer returned exit code ", *code));
    }
    return absl::OkStatus();
  });
}

absl::Status RunPoolWorker(WorkerInitializer initializer, Connection connection,
                           int64_t max_tasks, bool by_address) {
  if (absl::Status ready = initializer.Run(); !ready.ok()) {
    ResultFrameWriter report(kInitializerFailedBatch, 1);
    report.AddError(ready);
    (void)connection.SendBytes(report.Release());  // gone: ends too
    return ready;
  }
  int64_t done = 0;
  ByteWriter value;  // one item's encoded result, reused
  while (true) {
    absl::StatusOr<std::string> bytes = connection.RecvBytes();
    if (absl::IsUnavailable(bytes.status())) return absl::OkStatus();
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<std::variant<TaskFrame, StopFrame>> frame =
        DecodeWorkerFrame(*bytes);
    if (!frame.ok()) return frame.status();
    if (std::holds_alternative<StopFrame>(*frame)) return absl::OkStatus();
    const TaskFrame& task = std::get<TaskFrame>(*frame);
    ResultFrameWriter result(task.batch, task.items.size());
    absl::StatusOr<TaskFunction> function = Resolve(task.function, by_address);
    for (absl::string_view item : task.items) {
      if (!function.ok()) {
        result.AddError(function.status());
        continue;
      }
      value.Clear();
      if (absl::Status ran = RunItem(*function, item, value); ran.ok()) {
        result.AddValue(value.data());
      } else {
        result.AddError(ran);
      }
    }
    if (absl::Status sent = connection.SendBytes(result.Release());
        !sent.ok()) {
      return absl::IsUnavailable(sent) ? absl::OkStatus() : sent;
    }
    done += static_cast<int64_t>(task.items.size());
    if (max_tasks > 0 && done >= max_tasks) return absl::OkStatus();
  }
}

MPROC_REGISTER_TARGET_AS("mproc.PoolWorker", &RunPoolWorker);

}  // namespace mproc::internal

namespace mproc {

void Codec<internal::WorkerInitializer>::Encode(
    const internal::WorkerInitializer& initializer, ByteWriter& out) {
  out.PutBool(initializer.call.registered());
  if (!initializer.call.registered()) return;
  out.PutBytes(initializer.call.name());
  out.PutBytes(initializer.call.encoded_args());
  const auto& objects = initializer.call.handovers();
  out.PutVarint(objects.size());
  for (const std::shared_ptr<SharedObject>& object : objects) {
    out.PutVarint(internal::RecordHandover(object));
  }
}

absl::StatusOr<internal::WorkerInitializer>
Codec<internal::WorkerInitializer>::Decode(ByteReader& in) {
  internal::WorkerInitializer initializer;
  absl::StatusOr<bool> registered = in.GetBool();
  if (!registered.ok()) return registered.status();
  if (!*registered) return initializer;
  absl::StatusOr<absl::string_view> name = in.GetBytes();
  if (!name.ok()) return name.status();
  absl::StatusOr<absl::string_view> args = in.GetBytes();
  if (!args.ok()) return args.status();
  absl::StatusOr<uint64_t> count = in.GetCount(1);
  if (!count.ok()) return count.status();
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<uint64_t> index = in.GetVarint();
    if (!index.ok()) return index.status();
    absl::StatusOr<std::shared_ptr<SharedObject>> object =
        internal::HandedOver(*index);
    if (!object.ok()) return object.status();
    initializer.table.push_back(*std::move(object));
  }
  initializer.call =
      TargetCall::FromRegistered(std::string(*name), std::string(*args));
  return initializer;
}

}  // namespace mproc
