// -----------------------------------------------------------------------------
// File: api/target.h
// -----------------------------------------------------------------------------
//
// What a child runs. A target is a function plus its arguments:
//
//   absl::Status DoSomething(int64_t count, mproc::ListProxy<double> out);
//   MPROC_REGISTER_TARGET(DoSomething);
//   ...
//   mproc::TargetCall call = mproc::Target(&DoSomething, 1000, out);
//
// A *registered* function (MPROC_REGISTER_TARGET, at namespace scope in a .cc)
// runs on every start method: its arguments are encoded with their `Codec`s so
// a child that does not share its parent's memory (posix:forkserver,
// posix:spawn, windows) can find it by name and decode
// them. Any other callable (a lambda, an unregistered function) runs only on
// start methods that share memory at start (posix:fork, thread); Start on the
// others returns `kInvalidArgument`.
//
// A target returns `void` (exit code 0), an integer (the exit code) or
// `absl::Status` (OK: 0; an error: exit code 1, with `Process <name>:` and the
// status printed on stderr). An exception escaping the target also gives exit
// code 1, with its `what()` printed.
//
// Every program that starts children calls `RunChildIfRequested(argc, argv)`
// first thing in `main`: in a re-executed child it runs the target and exits.

#ifndef MPROC_API_TARGET_H_
#define MPROC_API_TARGET_H_

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/internal/handover.h"
#include "api/internal/target_registry.h"
#include "api/shared_object.h"
#include "api/wire.h"

namespace mproc {

// TargetCall
//
// A target with its arguments bound: the registered name and encoded
// arguments (when the function is registered), and a closure that runs it in
// this process (when the call was built here). Copyable.
class TargetCall {
 public:
  // An empty call; `Process::Start` rejects it with `kInvalidArgument`.
  TargetCall() = default;

  // A call to the registered target `name` with already-encoded arguments,
  // as a re-executed child receives it.
  static TargetCall FromRegistered(std::string name, std::string encoded_args);

  // A call that runs `closure` (start methods that share memory only).
  static TargetCall FromClosure(std::function<absl::StatusOr<int>()> closure);

  bool empty() const { return name_.empty() && !closure_; }
  // True when a re-executed child can run it (the function is registered).
  bool registered() const { return !name_.empty(); }
  // The registered name, or "" for a closure.
  const std::string& name() const { return name_; }
  const std::string& encoded_args() const { return encoded_args_; }
  // The OS objects the encoded arguments carry (api/internal/handover.h),
  // in the order the encoding refers to them.
  const std::vector<std::shared_ptr<SharedObject>>& handovers() const {
    return handovers_;
  }

  // Runs the target in this process and returns its exit code, or the error
  // it returned. For a call without a closure, looks the name up
  // (`kNotFound` if this program did not register it) and decodes the
  // arguments (`kInvalidArgument` if they are malformed).
  [[nodiscard]] absl::StatusOr<int> Run() const;

 private:
  template <typename R, typename... Params, typename... Args>
  friend TargetCall Target(R (*function)(Params...), Args&&... args);

  std::string name_;
  std::string encoded_args_;
  std::vector<std::shared_ptr<SharedObject>> handovers_;
  std::function<absl::StatusOr<int>()> closure_;
};

namespace internal {

template <typename R>
inline constexpr bool kIsTargetResult = std::is_void_v<R> ||
                                        std::is_same_v<R, absl::Status> ||
                                        (std::is_integral_v<R> &&
                                         !std::is_same_v<R, bool>);

// Calls `function` with `args` and turns what it returns into an exit code.
template <typename R, typename Function, typename Tuple>
[[nodiscard]] absl::StatusOr<int> InvokeForExitCode(Function function,
                                                    Tuple& args) {
  if constexpr (std::is_void_v<R>) {
    std::apply(function, args);
    return 0;
  } else if constexpr (std::is_same_v<R, absl::Status>) {
    absl::Status status = std::apply(function, args);
    if (!status.ok()) return status;
    return 0;
  } else {
    return static_cast<int>(std::apply(function, args));
  }
}

template <typename... Params>
[[nodiscard]] absl::StatusOr<std::tuple<Params...>> DecodeArguments(
    ByteReader& in) {
  std::tuple<std::optional<Params>...> slots;
  absl::Status status;
  auto decode_one = [&](auto& slot) {
    if (!status.ok()) return;
    using T = typename std::remove_reference_t<decltype(slot)>::value_type;
    absl::StatusOr<T> value = Codec<T>::Decode(in);
    if (value.ok()) {
      slot = *std::move(value);
    } else {
      status = value.status();
    }
  };
  std::apply([&](auto&... slot) { (decode_one(slot), ...); }, slots);
  if (!status.ok()) return status;
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return std::apply(
      [](auto&... slot) { return std::tuple<Params...>(std::move(*slot)...); },
      slots);
}

template <typename R, typename... Params>
FunctionKey KeyOf(R (*function)(Params...)) {
  return reinterpret_cast<FunctionKey>(function);
}

// Registers `function` as target `name`; see MPROC_REGISTER_TARGET.
template <typename R, typename... Params>
bool RegisterTarget(absl::string_view name, R (*function)(Params...)) {
  static_assert(kIsTargetResult<R>,
                "a target returns void, an integer exit code or absl::Status");
  static_assert((HasCodec<std::remove_cvref_t<Params>> && ...),
                "every parameter of a registered target needs a mproc::Codec "
                "(see api/codec.h)");
  static_assert(((!std::is_reference_v<Params> ||
                  std::is_const_v<std::remove_reference_t<Params>>)&&...),
                "target parameters are taken by value or by const reference");
  TargetInvoker invoker = [function](ByteReader& in) -> absl::StatusOr<int> {
    absl::StatusOr<std::tuple<std::remove_cvref_t<Params>...>> args =
        DecodeArguments<std::remove_cvref_t<Params>...>(in);
    if (!args.ok()) return args.status();
    return InvokeForExitCode<R>(function, *args);
  };
  return RegisterTargetInvoker(name, KeyOf(function), std::move(invoker));
}

}  // namespace internal

// Binds `function` to `args` (each converted to the parameter's type). When
// `function` is registered, the arguments are also encoded for re-executed
// children.
template <typename R, typename... Params, typename... Args>
TargetCall Target(R (*function)(Params...), Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "Target() needs one argument per parameter of the function");
  static_assert(internal::kIsTargetResult<R>,
                "a target returns void, an integer exit code or absl::Status");
  using Stored = std::tuple<std::remove_cvref_t<Params>...>;
  auto stored = std::make_shared<Stored>(std::forward<Args>(args)...);
  TargetCall call;
  call.closure_ = [function, stored]() -> absl::StatusOr<int> {
    Stored copy = *stored;  // each run gets fresh arguments, as a child would
    return internal::InvokeForExitCode<R>(function, copy);
  };
  absl::string_view name =
      internal::RegisteredNameOf(internal::KeyOf(function));
  if constexpr ((HasCodec<std::remove_cvref_t<Params>> && ...)) {
    if (!name.empty()) {
      internal::HandoverCollector handovers;
      ByteWriter out;
      std::apply(
          [&](const auto&... value) {
            (Codec<std::remove_cvref_t<decltype(value)>>::Encode(value, out),
             ...);
          },
          *stored);
      call.name_ = std::string(name);
      call.encoded_args_ = out.Release();
      call.handovers_ = handovers.Take();
    }
  }
  return call;
}

// Binds a callable that takes no arguments (a lambda, say). It runs only on
// start methods that share memory at start (posix:fork, thread).
template <typename F>
requires std::invocable<F&> &&
    (!std::is_pointer_v<std::decay_t<F>>)&&internal::kIsTargetResult<
        std::invoke_result_t<F&>> TargetCall Target(F callable) {
  using R = std::invoke_result_t<F&>;
  return TargetCall::FromClosure(
      [callable = std::move(callable)]() mutable -> absl::StatusOr<int> {
        std::tuple<> none;
        return internal::InvokeForExitCode<R>(
            [&callable]() -> R { return callable(); }, none);
      });
}

// Runs this program as a child when the command line says it was re-executed
// by a backend (posix:spawn, windows): decodes the launch request, runs the
// target, and exits with its exit code; or as posix:forkserver's fork server,
// which serves until its parent ends, then exits. Otherwise returns at once.
// Call it first thing in `main`, before anything that parses flags or starts
// a thread.
void RunChildIfRequested(int argc, char** argv);

}  // namespace mproc

#define MPROC_INTERNAL_CONCAT_INNER(a, b) a##b
#define MPROC_INTERNAL_CONCAT(a, b) MPROC_INTERNAL_CONCAT_INNER(a, b)

// MPROC_REGISTER_TARGET(function)
//
// Registers `function` under its own spelling, so that every backend can run
// it. Use at namespace scope in a .cc file that is linked whole into the
// program (an OBJECT library or the executable itself).
#define MPROC_REGISTER_TARGET(function) \
  MPROC_REGISTER_TARGET_AS(#function, &function)

// MPROC_REGISTER_TARGET_AS(name, function_pointer)
//
// Registers `function_pointer` under `name` (for overloads or renames).
#define MPROC_REGISTER_TARGET_AS(name, function_pointer)    \
  [[maybe_unused]] static const bool MPROC_INTERNAL_CONCAT( \
      mproc_target_registered_, __LINE__) =                 \
      ::mproc::internal::RegisterTarget((name), (function_pointer))

#endif  // MPROC_API_TARGET_H_
