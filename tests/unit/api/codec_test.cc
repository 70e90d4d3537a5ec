// Unit tests for api/codec.h: the built-in argument codecs.
#include "api/codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

static_assert(HasCodec<int>);
static_assert(HasCodec<std::vector<std::vector<std::string>>>);
static_assert(!HasCodec<float*>);
static_assert(!HasCodec<std::vector<const char*>>);

template <typename T>
absl::StatusOr<T> RoundTrip(const T& value) {
  return DecodeValue<T>(EncodeValue(value));
}

TEST(CodecTest, IntRoundTripsEdgeValues) {
  for (int v : {0, 1, -1, std::numeric_limits<int>::min(),
                std::numeric_limits<int>::max()}) {
    ASSERT_OK_AND_ASSIGN(int got, RoundTrip(v));
    EXPECT_EQ(got, v);
  }
}

TEST(CodecTest, Int64RoundTripsEdgeValues) {
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    ASSERT_OK_AND_ASSIGN(int64_t got, RoundTrip(v));
    EXPECT_EQ(got, v);
  }
  ASSERT_OK_AND_ASSIGN(uint64_t max,
                       RoundTrip(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(max, std::numeric_limits<uint64_t>::max());
}

TEST(CodecTest, Uint8RejectsValuesOutOfItsRange) {
  ASSERT_OK_AND_ASSIGN(uint8_t max, DecodeValue<uint8_t>(EncodeValue(255u)));
  EXPECT_EQ(max, 255);
  EXPECT_THAT(DecodeValue<uint8_t>(EncodeValue(300u)),
              StatusIs(kInvalid, HasSubstr("300")));
}

TEST(CodecTest, NarrowSignedIntegersRejectValuesOutOfRange) {
  EXPECT_THAT(
      DecodeValue<int>(EncodeValue(std::numeric_limits<int64_t>::max())),
      StatusIs(kInvalid));
  EXPECT_THAT(DecodeValue<int8_t>(EncodeValue(-129)), StatusIs(kInvalid));
  ASSERT_OK_AND_ASSIGN(int8_t min, DecodeValue<int8_t>(EncodeValue(-128)));
  EXPECT_EQ(min, -128);
}

TEST(CodecTest, BoolRoundTripsAndRejectsOtherBytes) {
  ASSERT_OK_AND_ASSIGN(bool t, RoundTrip(true));
  ASSERT_OK_AND_ASSIGN(bool f, RoundTrip(false));
  EXPECT_TRUE(t);
  EXPECT_FALSE(f);
  EXPECT_THAT(DecodeValue<bool>("\x05"), StatusIs(kInvalid));
}

TEST(CodecTest, DoubleRoundTripsSpecialValues) {
  for (double v : {0.0, -0.0, 3.25, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::lowest()}) {
    ASSERT_OK_AND_ASSIGN(double got, RoundTrip(v));
    EXPECT_EQ(got, v);
    EXPECT_EQ(std::signbit(got), std::signbit(v));
  }
  ASSERT_OK_AND_ASSIGN(double nan,
                       RoundTrip(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_TRUE(std::isnan(nan));
}

TEST(CodecTest, StringRoundTripsWithNuls) {
  const std::string value("\0a\0b\0", 5);
  ASSERT_OK_AND_ASSIGN(std::string got, RoundTrip(value));
  EXPECT_EQ(got, value);
  EXPECT_EQ(got.size(), 5u);
  ASSERT_OK_AND_ASSIGN(std::string empty, RoundTrip(std::string()));
  EXPECT_EQ(empty, "");
}

TEST(CodecTest, VectorOfStringsRoundTrips) {
  const std::vector<std::string> value = {"", "one", std::string("t\0o", 3),
                                          std::string(1000, 'z')};
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> got, RoundTrip(value));
  EXPECT_EQ(got, value);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> none,
                       RoundTrip(std::vector<std::string>()));
  EXPECT_TRUE(none.empty());
}

TEST(CodecTest, NestedVectorsRoundTrip) {
  const std::vector<std::vector<int>> value = {{}, {1, 2, 3}, {-4}, {}};
  ASSERT_OK_AND_ASSIGN(std::vector<std::vector<int>> got, RoundTrip(value));
  EXPECT_THAT(got, ElementsAre(ElementsAre(), ElementsAre(1, 2, 3),
                               ElementsAre(-4), ElementsAre()));
}

TEST(CodecTest, DecodeValueRejectsTrailingBytes) {
  EXPECT_THAT(DecodeValue<int>(EncodeValue(5) + "x"),
              StatusIs(kInvalid, HasSubstr("trailing")));
  EXPECT_THAT(DecodeValue<std::string>(EncodeValue(std::string("ab")) + "c"),
              StatusIs(kInvalid));
}

TEST(CodecTest, DecodeValueRejectsEveryTruncatedPrefix) {
  const std::string full =
      EncodeValue(std::vector<std::string>{"alpha", "", "gamma"});
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(DecodeValue<std::vector<std::string>>(full.substr(0, n)),
                StatusIs(kInvalid))
        << "prefix of " << n << " bytes";
  }
}

TEST(CodecTest, VectorWithCorruptCountIsRejectedWithoutAllocating) {
  ByteWriter out;
  out.PutVarint(uint64_t{1} << 60);
  out.PutSignedVarint(1);
  EXPECT_THAT(DecodeValue<std::vector<int64_t>>(out.data()),
              StatusIs(kInvalid));
}

TEST(CodecTest, VectorElementOutOfRangeIsRejected) {
  EXPECT_THAT(DecodeValue<std::vector<uint8_t>>(
                  EncodeValue(std::vector<uint32_t>{1, 2, 256})),
              StatusIs(kInvalid, HasSubstr("256")));
}

}  // namespace
}  // namespace mproc
