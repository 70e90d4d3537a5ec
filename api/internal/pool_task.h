// -----------------------------------------------------------------------------
// File: api/internal/pool_task.h
// -----------------------------------------------------------------------------
//
// Internal: how a Pool task function is called in a worker and named in a
// frame (docs/design.md §12). A task returns a `T` with a Codec, or
// `absl::StatusOr<T>`; its parameters have Codecs.

#ifndef MPROC_API_INTERNAL_POOL_TASK_H_
#define MPROC_API_INTERNAL_POOL_TASK_H_

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/pool_protocol.h"
#include "api/internal/task_registry.h"
#include "api/target.h"

namespace mproc::internal {

template <typename R>
struct TaskValueOf {
  using type = R;
  static constexpr bool kStatusOr = false;
};
template <typename T>
struct TaskValueOf<absl::StatusOr<T>> {
  using type = T;
  static constexpr bool kStatusOr = true;
};

// The value a task returning `R` gives: `T` for `absl::StatusOr<T>`, else R.
template <typename R>
using TaskValue = typename TaskValueOf<R>::type;

template <typename R, typename... Params>
constexpr void CheckTaskSignature() {
  static_assert(HasCodec<TaskValue<R>>,
                "a Pool task returns a value with a mproc::Codec, or "
                "absl::StatusOr of one (see api/codec.h)");
  static_assert((HasCodec<std::remove_cvref_t<Params>> && ...),
                "every parameter of a Pool task needs a mproc::Codec");
  static_assert(((!std::is_reference_v<Params> ||
                  std::is_const_v<std::remove_reference_t<Params>>)&&...),
                "task parameters are taken by value or by const reference");
}

// The TaskThunk for `R(Params...)`.
template <typename R, typename... Params>
absl::Status InvokeTask(FunctionKey key, ByteReader& in, ByteWriter& out) {
  auto function = reinterpret_cast<R (*)(Params...)>(key);
  absl::StatusOr<std::tuple<std::remove_cvref_t<Params>...>> args =
      DecodeArguments<std::remove_cvref_t<Params>...>(in);
  if (!args.ok()) return args.status();
  if constexpr (TaskValueOf<R>::kStatusOr) {
    R result = std::apply(function, *args);
    if (!result.ok()) return result.status();
    Codec<TaskValue<R>>::Encode(*result, out);
  } else {
    Codec<TaskValue<R>>::Encode(std::apply(function, *args), out);
  }
  return absl::OkStatus();
}

template <typename R, typename... Params>
TaskFunction TaskFunctionOf(R (*function)(Params...)) {
  return {&InvokeTask<R, Params...>, KeyOf(function)};
}

// Registers `function` as task `name`; see MPROC_REGISTER_TASK.
template <typename R, typename... Params>
bool RegisterTask(absl::string_view name, R (*function)(Params...)) {
  CheckTaskSignature<R, Params...>();
  return RegisterTaskFunction(name, TaskFunctionOf(function));
}

// How a frame names `function` for workers of `ctx`: its registered name, or
// its address where workers share or copy the pool's memory.
template <typename R, typename... Params>
[[nodiscard]] absl::StatusOr<TaskReference> ReferenceTo(
    R (*function)(Params...), const Context& ctx) {
  TaskReference reference;
  reference.name = std::string(RegisteredTaskNameOf(KeyOf(function)));
  if (!reference.name.empty()) return reference;
  if (!ctx.start_method().runs_closures) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the task function is not registered, and workers started by ",
        ctx.name(),
        " do not share this process's memory; register it with "
        "MPROC_REGISTER_TASK, or use posix:fork or thread"));
  }
  reference.by_address = TaskFunctionOf(function);
  return reference;
}

// Appends `arg` encoded as a `Param` (converted first only when its type
// differs).
template <typename Param, typename Arg>
void EncodeAs(const Arg& arg, ByteWriter& out) {
  using P = std::remove_cvref_t<Param>;
  if constexpr (std::is_same_v<std::remove_cvref_t<Arg>, P>) {
    Codec<P>::Encode(arg, out);
  } else {
    Codec<P>::Encode(P(arg), out);
  }
}

// Appends the encoded argument tuple of one call of a task taking `Params`.
template <typename... Params, typename... Args>
void EncodeTaskArguments(ByteWriter& out, const Args&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "one argument per parameter of the task");
  (EncodeAs<Params>(args, out), ...);
}

// Decodes the result of item `index`; its error, or a decoding error, names
// the item.
template <typename T>
[[nodiscard]] absl::StatusOr<T> DecodeItem(
    const absl::StatusOr<absl::string_view>& slot, size_t index) {
  absl::StatusOr<T> value =
      slot.ok() ? DecodeValue<T>(*slot) : absl::StatusOr<T>(slot.status());
  if (value.ok()) return value;
  return absl::Status(
      value.status().code(),
      absl::StrCat("item ", index, ": ", value.status().message()));
}

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_TASK_H_
