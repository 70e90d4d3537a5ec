// Unit tests for EncodeLaunchRequest / DecodeLaunchRequest (api/backend.h,
// api/launch_request.cc): what a re-executed child receives.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/target.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::IsOk;
using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

int Sum(int64_t a, std::vector<int> b) {
  for (int v : b) a += v;
  return static_cast<int>(a);
}
MPROC_REGISTER_TARGET(Sum);

LaunchRequest MakeRequest(bool flags) {
  LaunchRequest request;
  request.child.name = "n\xc3\xa4me 'quoted'";
  request.child.identity = {1, 20, 300};
  request.child.daemon = flags;
  request.child.kill_on_parent_death = !flags;
  request.child.parent_pid = int64_t{1} << 40;
  request.child.parent_name = "MainProcess";
  request.start_method = "spawn";
  request.target = Target(&Sum, 10, std::vector<int>{1, 2});
  return request;
}

void ExpectSameRequest(const LaunchRequest& got, const LaunchRequest& want) {
  EXPECT_EQ(got.child.name, want.child.name);
  EXPECT_EQ(got.child.identity, want.child.identity);
  EXPECT_EQ(got.child.daemon, want.child.daemon);
  EXPECT_EQ(got.child.kill_on_parent_death, want.child.kill_on_parent_death);
  EXPECT_EQ(got.child.parent_pid, want.child.parent_pid);
  EXPECT_EQ(got.child.parent_name, want.child.parent_name);
  EXPECT_EQ(got.start_method, want.start_method);
  EXPECT_EQ(got.target.name(), want.target.name());
  EXPECT_EQ(got.target.encoded_args(), want.target.encoded_args());
}

TEST(LaunchRequestTest, RoundTripsEveryField) {
  for (bool flags : {true, false}) {
    const LaunchRequest request = MakeRequest(flags);
    ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeLaunchRequest(request));
    ASSERT_OK_AND_ASSIGN(LaunchRequest decoded, DecodeLaunchRequest(bytes));
    ExpectSameRequest(decoded, request);
  }
}

TEST(LaunchRequestTest, RoundTripsEmptyIdentityAndNegativeParentPid) {
  LaunchRequest request = MakeRequest(false);
  request.child.identity.clear();
  request.child.parent_pid = -1;
  request.child.parent_name = "";
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeLaunchRequest(request));
  ASSERT_OK_AND_ASSIGN(LaunchRequest decoded, DecodeLaunchRequest(bytes));
  ExpectSameRequest(decoded, request);
}

TEST(LaunchRequestTest, DecodedTargetRunsInTheChild) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeLaunchRequest(MakeRequest(true)));
  ASSERT_OK_AND_ASSIGN(LaunchRequest decoded, DecodeLaunchRequest(bytes));
  ASSERT_OK_AND_ASSIGN(int exitcode, decoded.target.Run());
  EXPECT_EQ(exitcode, 13);
}

TEST(LaunchRequestTest, ClosureTargetIsInvalidArgument) {
  LaunchRequest request = MakeRequest(false);
  request.target = Target([] { return 0; });
  EXPECT_THAT(EncodeLaunchRequest(request),
              StatusIs(kInvalid, AllOf(HasSubstr("'spawn'"),
                                       HasSubstr("MPROC_REGISTER_TARGET"))));
  request.target = TargetCall();
  EXPECT_THAT(EncodeLaunchRequest(request), StatusIs(kInvalid));
}

TEST(LaunchRequestTest, EveryTruncatedPrefixIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeLaunchRequest(MakeRequest(true)));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THAT(DecodeLaunchRequest(bytes.substr(0, n)), StatusIs(kInvalid))
        << "prefix of " << n << " bytes";
  }
}

TEST(LaunchRequestTest, TrailingBytesAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeLaunchRequest(MakeRequest(true)));
  EXPECT_THAT(DecodeLaunchRequest(bytes + '\0'), StatusIs(kInvalid));
}

TEST(LaunchRequestTest, OtherVersionIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeLaunchRequest(MakeRequest(true)));
  ASSERT_EQ(bytes[0], '\x01');  // version 1, a one-byte varint
  for (char version : {'\x00', '\x02', '\x7f'}) {
    std::string other = bytes;
    other[0] = version;
    EXPECT_THAT(DecodeLaunchRequest(other),
                StatusIs(kInvalid, HasSubstr("same build")));
  }
}

TEST(LaunchRequestTest, IdentityOutOfIntRangeIsInvalidArgument) {
  ByteWriter out;
  out.PutVarint(1);  // version
  out.PutBytes("Process-1");
  out.PutVarint(1);
  out.PutSignedVarint(int64_t{1} << 40);  // not an int
  out.PutBool(false);
  out.PutBool(false);
  out.PutSignedVarint(100);
  out.PutBytes("MainProcess");
  out.PutBytes("spawn");
  out.PutBytes("Sum");
  out.PutBytes("");
  EXPECT_THAT(DecodeLaunchRequest(out.data()), StatusIs(kInvalid));
}

TEST(LaunchRequestTest, CorruptBytesNeverCrash) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeLaunchRequest(MakeRequest(true)));
  // Every single byte set to values that break varints, bools and lengths.
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (char value : {'\x00', '\x02', '\x7f', '\x80', '\xff'}) {
      std::string corrupt = bytes;
      corrupt[i] = value;
      EXPECT_THAT(DecodeLaunchRequest(corrupt),
                  AnyOf(IsOk(), StatusIs(kInvalid)))
          << "byte " << i << " set to " << static_cast<int>(value);
    }
  }
  // Garbage after a valid version byte.
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(1, '\x01');
    const int size = round % 64;
    for (int k = 0; k < size; ++k)
      garbage.push_back(static_cast<char>(byte(random)));
    EXPECT_THAT(DecodeLaunchRequest(garbage),
                AnyOf(IsOk(), StatusIs(kInvalid)));
  }
}

}  // namespace
}  // namespace mproc
