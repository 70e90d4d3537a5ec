// -----------------------------------------------------------------------------
// File: tests/testing/status_matchers.h
// -----------------------------------------------------------------------------
//
// GoogleTest matchers for absl::Status and absl::StatusOr<T> (Debian's Abseil
// 20220623 ships none):
//
//   EXPECT_THAT(p.Start(), IsOk());
//   EXPECT_THAT(p.Start(), StatusIs(absl::StatusCode::kFailedPrecondition,
//                                   HasSubstr("cannot start a process
//                                   twice")));
//   EXPECT_THAT(list.Size(), HoldsValue(3));
//   ASSERT_OK(p.Join());
//   ASSERT_OK_AND_ASSIGN(auto manager, ctx.StartManager());

#ifndef MPROC_TESTS_TESTING_STATUS_MATCHERS_H_
#define MPROC_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mproc::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "whose status is " << status;
  return status.ok();
}

// Matches a Status (or StatusOr) whose code is `code` and whose message
// matches `message_matcher` (any message by default).
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

// Matches a Status (or StatusOr) whose code is `code`.
inline auto StatusIs(absl::StatusCode code) {
  return StatusIs(code, ::testing::_);
}

// Matches an OK StatusOr whose value matches `matcher` (as
// absl's IsOkAndHolds).
MATCHER_P(HoldsValue, matcher, "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

// The CPython phrase a lifecycle error starts with.
inline auto StartsWithPhrase(const std::string& phrase) {
  return ::testing::StartsWith(phrase);
}

}  // namespace mproc::testing

#define MPROC_TESTING_CONCAT_INNER(a, b) a##b
#define MPROC_TESTING_CONCAT(a, b) MPROC_TESTING_CONCAT_INNER(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::mproc::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::mproc::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                     \
  auto MPROC_TESTING_CONCAT(status_or_, __LINE__) = (expr); \
  ASSERT_THAT(MPROC_TESTING_CONCAT(status_or_, __LINE__),   \
              ::mproc::testing::IsOk());                    \
  lhs = *std::move(MPROC_TESTING_CONCAT(status_or_, __LINE__))

#endif  // MPROC_TESTS_TESTING_STATUS_MATCHERS_H_
