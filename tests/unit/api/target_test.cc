// Unit tests for api/target.h: registration, binding and running targets.
#include "api/target.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/internal/target_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

// What RecordArguments saw on its last run.
struct Seen {
  int64_t count = 0;
  std::string text;
  std::vector<int> values;
  int runs = 0;
};
Seen& LastSeen() {
  static Seen seen;
  return seen;
}

void RecordArguments(int64_t count, const std::string& text,
                     std::vector<int> values) {
  Seen& seen = LastSeen();
  seen.count = count;
  seen.text = text;
  seen.values = std::move(values);
  ++seen.runs;
}
MPROC_REGISTER_TARGET(RecordArguments);

int ReturnCode(int code) { return code; }
MPROC_REGISTER_TARGET(ReturnCode);

absl::Status FailWith(int code, std::string message) {
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}
MPROC_REGISTER_TARGET(FailWith);

void NotRegistered(int) {}

TEST(TargetTest, RegisteredTargetIsFoundByName) {
  EXPECT_NE(internal::FindTargetInvoker("RecordArguments"), nullptr);
  EXPECT_EQ(internal::RegisteredNameOf(internal::KeyOf(&RecordArguments)),
            "RecordArguments");
  EXPECT_THAT(internal::RegisteredTargetNames(),
              AllOf(Contains("RecordArguments"), Contains("ReturnCode"),
                    Contains("FailWith")));
}

TEST(TargetTest, UnregisteredFunctionHasNoName) {
  EXPECT_EQ(internal::RegisteredNameOf(internal::KeyOf(&NotRegistered)), "");
  EXPECT_EQ(internal::FindTargetInvoker("NotRegistered"), nullptr);
  TargetCall call = Target(&NotRegistered, 1);
  EXPECT_FALSE(call.registered());
  EXPECT_FALSE(call.empty());
  EXPECT_EQ(call.name(), "");
  EXPECT_EQ(call.encoded_args(), "");
}

TEST(TargetTest, TargetEncodesTheArgumentsOfARegisteredFunction) {
  TargetCall call =
      Target(&RecordArguments, 7, "seven", std::vector<int>{1, -2});
  EXPECT_TRUE(call.registered());
  EXPECT_EQ(call.name(), "RecordArguments");
  ByteWriter expected;
  Codec<int64_t>::Encode(7, expected);
  Codec<std::string>::Encode("seven", expected);
  Codec<std::vector<int>>::Encode({1, -2}, expected);
  EXPECT_EQ(call.encoded_args(), expected.data());
}

TEST(TargetTest, RunRunsTheBoundClosure) {
  LastSeen() = Seen();
  TargetCall call = Target(&RecordArguments, 42, "hello", std::vector<int>{3});
  ASSERT_OK_AND_ASSIGN(int exitcode, call.Run());
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(LastSeen().runs, 1);
  EXPECT_EQ(LastSeen().count, 42);
  EXPECT_EQ(LastSeen().text, "hello");
  EXPECT_EQ(LastSeen().values, std::vector<int>{3});
}

TEST(TargetTest, FromRegisteredDecodesTheArgumentsAndRuns) {
  LastSeen() = Seen();
  const TargetCall bound = Target(&RecordArguments, -5, std::string("a\0b", 3),
                                  std::vector<int>{9, 8, 7});
  const TargetCall call =
      TargetCall::FromRegistered(bound.name(), bound.encoded_args());
  EXPECT_TRUE(call.registered());
  ASSERT_OK_AND_ASSIGN(int exitcode, call.Run());
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(LastSeen().runs, 1);
  EXPECT_EQ(LastSeen().count, -5);
  EXPECT_EQ(LastSeen().text, std::string("a\0b", 3));
  EXPECT_EQ(LastSeen().values, (std::vector<int>{9, 8, 7}));
}

TEST(TargetTest, UnknownNameIsNotFoundAndSaysToRegisterIt) {
  EXPECT_THAT(TargetCall::FromRegistered("NoSuchTarget", "").Run(),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("'NoSuchTarget'"),
                             HasSubstr("MPROC_REGISTER_TARGET"))));
}

TEST(TargetTest, MalformedArgumentsAreInvalidArgument) {
  LastSeen() = Seen();
  const std::string args =
      Target(&RecordArguments, 1, "x", std::vector<int>{1}).encoded_args();
  for (size_t n = 0; n < args.size(); ++n) {
    EXPECT_THAT(
        TargetCall::FromRegistered("RecordArguments", args.substr(0, n)).Run(),
        StatusIs(absl::StatusCode::kInvalidArgument))
        << "prefix of " << n << " bytes";
  }
  EXPECT_THAT(TargetCall::FromRegistered("RecordArguments", args + "!").Run(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The target never ran on bad input.
  EXPECT_EQ(LastSeen().runs, 0);
}

TEST(TargetTest, ArgumentsOutOfRangeForTheParameterAreInvalidArgument) {
  EXPECT_THAT(TargetCall::FromRegistered(
                  "ReturnCode",
                  EncodeValue(int64_t{std::numeric_limits<int>::max()} + 1))
                  .Run(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TargetTest, VoidReturnIsExitCodeZero) {
  ASSERT_OK_AND_ASSIGN(int exitcode, Target(&NotRegistered, 3).Run());
  EXPECT_EQ(exitcode, 0);
}

TEST(TargetTest, IntReturnIsTheExitCode) {
  ASSERT_OK_AND_ASSIGN(int direct, Target(&ReturnCode, 42).Run());
  EXPECT_EQ(direct, 42);
  ASSERT_OK_AND_ASSIGN(
      int decoded,
      TargetCall::FromRegistered("ReturnCode", EncodeValue(255)).Run());
  EXPECT_EQ(decoded, 255);
}

TEST(TargetTest, StatusReturnIsZeroOrThatError) {
  ASSERT_OK_AND_ASSIGN(int ok, Target(&FailWith, 0, "ignored").Run());
  EXPECT_EQ(ok, 0);
  EXPECT_THAT(
      Target(&FailWith, static_cast<int>(absl::StatusCode::kPermissionDenied),
             "no entry")
          .Run(),
      StatusIs(absl::StatusCode::kPermissionDenied, "no entry"));
  const TargetCall bound = Target(
      &FailWith, static_cast<int>(absl::StatusCode::kAborted), "stopped");
  EXPECT_THAT(
      TargetCall::FromRegistered(bound.name(), bound.encoded_args()).Run(),
      StatusIs(absl::StatusCode::kAborted, "stopped"));
}

TEST(TargetTest, LambdaTargetHasNoRegisteredName) {
  int runs = 0;
  TargetCall call = Target([&runs] {
    ++runs;
    return 3;
  });
  EXPECT_FALSE(call.empty());
  EXPECT_FALSE(call.registered());
  EXPECT_EQ(call.name(), "");
  ASSERT_OK_AND_ASSIGN(int exitcode, call.Run());
  EXPECT_EQ(exitcode, 3);
  EXPECT_EQ(runs, 1);
}

TEST(TargetTest, LambdaReturningStatusMapsLikeAFunction) {
  EXPECT_THAT(Target([] { return absl::InternalError("boom"); }).Run(),
              StatusIs(absl::StatusCode::kInternal, "boom"));
  ASSERT_OK_AND_ASSIGN(int exitcode, Target([] {}).Run());
  EXPECT_EQ(exitcode, 0);
}

TEST(TargetTest, EmptyCallIsEmptyAndDoesNotRun) {
  TargetCall call;
  EXPECT_TRUE(call.empty());
  EXPECT_FALSE(call.registered());
  EXPECT_THAT(call.Run(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mproc
