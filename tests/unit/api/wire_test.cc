// Unit tests for api/wire.h: the byte format of every mproc message.
#include "api/wire.h"

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
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(WireTest, VarintRoundTripsEdgeValues) {
  const std::vector<uint64_t> values = {0,
                                        1,
                                        127,
                                        128,
                                        300,
                                        uint64_t{1} << 32,
                                        std::numeric_limits<uint64_t>::max()};
  ByteWriter out;
  for (uint64_t v : values) out.PutVarint(v);
  ByteReader in(out.data());
  for (uint64_t v : values) {
    ASSERT_OK_AND_ASSIGN(uint64_t got, in.GetVarint());
    EXPECT_EQ(got, v);
  }
  EXPECT_OK(in.ExpectEnd());
}

TEST(WireTest, VarintUsesSevenBitsPerByte) {
  ByteWriter small;
  small.PutVarint(127);
  EXPECT_EQ(small.data(), std::string("\x7f", 1));
  ByteWriter two;
  two.PutVarint(300);
  EXPECT_EQ(two.data(), "\xac\x02");
  ByteWriter max;
  max.PutVarint(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(max.data().size(), 10u);
}

TEST(WireTest, SignedVarintRoundTripsEdgeValues) {
  const std::vector<int64_t> values = {0,
                                       1,
                                       -1,
                                       63,
                                       -64,
                                       64,
                                       -65,
                                       std::numeric_limits<int32_t>::min(),
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  ByteWriter out;
  for (int64_t v : values) out.PutSignedVarint(v);
  ByteReader in(out.data());
  for (int64_t v : values) {
    ASSERT_OK_AND_ASSIGN(int64_t got, in.GetSignedVarint());
    EXPECT_EQ(got, v);
  }
  EXPECT_OK(in.ExpectEnd());
}

TEST(WireTest, SignedVarintZigZagsSmallNegativesIntoOneByte) {
  ByteWriter out;
  out.PutSignedVarint(-1);
  out.PutSignedVarint(1);
  out.PutSignedVarint(-64);
  EXPECT_EQ(out.data(), "\x01\x02\x7f");
}

TEST(WireTest, FixedWidthIntegersAreLittleEndian) {
  ByteWriter out;
  out.PutFixed32(0x04030201u);
  out.PutFixed64(0x0807060504030201ull);
  EXPECT_EQ(out.data(), "\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08");
  ByteReader in(out.data());
  ASSERT_OK_AND_ASSIGN(uint32_t fixed32, in.GetFixed32());
  ASSERT_OK_AND_ASSIGN(uint64_t fixed64, in.GetFixed64());
  EXPECT_EQ(fixed32, 0x04030201u);
  EXPECT_EQ(fixed64, 0x0807060504030201ull);
  EXPECT_TRUE(in.empty());
}

TEST(WireTest, DoubleRoundTripsEveryBitPattern) {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      1.5,
                                      -1e300,
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity()};
  ByteWriter out;
  for (double v : values) out.PutDouble(v);
  out.PutDouble(std::numeric_limits<double>::quiet_NaN());
  ByteReader in(out.data());
  for (double v : values) {
    ASSERT_OK_AND_ASSIGN(double got, in.GetDouble());
    EXPECT_EQ(got, v);
    EXPECT_EQ(std::signbit(got), std::signbit(v));
  }
  ASSERT_OK_AND_ASSIGN(double nan, in.GetDouble());
  EXPECT_TRUE(std::isnan(nan));
  EXPECT_OK(in.ExpectEnd());
}

TEST(WireTest, BoolRoundTripsAndRejectsOtherBytes) {
  ByteWriter out;
  out.PutBool(true);
  out.PutBool(false);
  EXPECT_EQ(out.data(), std::string("\x01\x00", 2));
  ByteReader in(out.data());
  ASSERT_OK_AND_ASSIGN(bool first, in.GetBool());
  ASSERT_OK_AND_ASSIGN(bool second, in.GetBool());
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);

  ByteReader bad("\x02");
  EXPECT_THAT(bad.GetBool(), StatusIs(kInvalid, HasSubstr("bool")));
}

TEST(WireTest, BytesRoundTripWithNulsAndEmpty) {
  const std::string with_nuls("a\0b\0", 4);
  ByteWriter out;
  out.PutBytes(with_nuls);
  out.PutBytes("");
  out.PutBytes(std::string(300, 'x'));
  ByteReader in(out.data());
  ASSERT_OK_AND_ASSIGN(absl::string_view first, in.GetBytes());
  EXPECT_EQ(first, with_nuls);
  ASSERT_OK_AND_ASSIGN(absl::string_view empty, in.GetBytes());
  EXPECT_TRUE(empty.empty());
  ASSERT_OK_AND_ASSIGN(absl::string_view long_one, in.GetBytes());
  EXPECT_EQ(long_one, std::string(300, 'x'));
  EXPECT_OK(in.ExpectEnd());
}

// Reads back what EveryTruncatedPrefixIsInvalidArgument writes.
absl::Status ReadAll(absl::string_view bytes) {
  ByteReader in(bytes);
  if (auto v = in.GetVarint(); !v.ok()) return v.status();
  if (auto v = in.GetSignedVarint(); !v.ok()) return v.status();
  if (auto v = in.GetFixed32(); !v.ok()) return v.status();
  if (auto v = in.GetFixed64(); !v.ok()) return v.status();
  if (auto v = in.GetDouble(); !v.ok()) return v.status();
  if (auto v = in.GetBool(); !v.ok()) return v.status();
  if (auto v = in.GetBytes(); !v.ok()) return v.status();
  return in.ExpectEnd();
}

TEST(WireTest, EveryTruncatedPrefixIsInvalidArgument) {
  ByteWriter out;
  out.PutVarint(std::numeric_limits<uint64_t>::max());
  out.PutSignedVarint(std::numeric_limits<int64_t>::min());
  out.PutFixed32(7);
  out.PutFixed64(8);
  out.PutDouble(9.5);
  out.PutBool(true);
  out.PutBytes("payload");
  const std::string full = out.Release();
  ASSERT_OK(ReadAll(full));
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(ReadAll(absl::string_view(full).substr(0, n)),
                StatusIs(kInvalid, HasSubstr("truncated")))
        << "prefix of " << n << " bytes";
  }
}

TEST(WireTest, BytesLongerThanInputIsInvalidArgument) {
  ByteWriter out;
  out.PutVarint(10);
  std::string bytes = out.Release() + "abc";
  ByteReader in(bytes);
  EXPECT_THAT(in.GetBytes(), StatusIs(kInvalid));
}

TEST(WireTest, OverlongVarintIsInvalidArgument) {
  // Ten bytes whose last one carries more than the 64th bit.
  const std::string overflow_bytes = std::string(9, '\xff') + "\x02";
  ByteReader overflow(overflow_bytes);
  EXPECT_THAT(overflow.GetVarint(), StatusIs(kInvalid, HasSubstr("64 bits")));
  // Eleven bytes: continuation bits past the tenth byte.
  const std::string too_many_bytes = std::string(10, '\x80') + '\0';
  ByteReader too_many(too_many_bytes);
  EXPECT_THAT(too_many.GetVarint(), StatusIs(kInvalid));
  // The longest valid varint still decodes.
  const std::string max_bytes = std::string(9, '\xff') + "\x01";
  ByteReader max(max_bytes);
  ASSERT_OK_AND_ASSIGN(uint64_t value, max.GetVarint());
  EXPECT_EQ(value, std::numeric_limits<uint64_t>::max());
}

TEST(WireTest, GetCountRejectsCountsTheInputCannotHold) {
  auto count_then = [](uint64_t count, size_t trailing) {
    ByteWriter out;
    out.PutVarint(count);
    return out.Release() + std::string(trailing, 'x');
  };
  const std::string four_of_four = count_then(4, 4);
  ByteReader fits(four_of_four);
  ASSERT_OK_AND_ASSIGN(uint64_t count, fits.GetCount(1));
  EXPECT_EQ(count, 4u);

  const std::string five_of_four = count_then(5, 4);
  ByteReader one_short(five_of_four);
  EXPECT_THAT(one_short.GetCount(1), StatusIs(kInvalid));

  const std::string two_of_fifteen = count_then(2, 15);
  ByteReader wide(two_of_fifteen);
  EXPECT_THAT(wide.GetCount(8), StatusIs(kInvalid));

  const std::string huge = count_then(uint64_t{1} << 62, 16);
  ByteReader corrupt(huge);
  EXPECT_THAT(corrupt.GetCount(1), StatusIs(kInvalid));
}

TEST(WireTest, ExpectEndReportsTrailingBytes) {
  ByteWriter out;
  out.PutVarint(1);
  std::string bytes = out.Release() + "zz";
  ByteReader in(bytes);
  ASSERT_OK(in.GetVarint().status());
  EXPECT_EQ(in.remaining(), 2u);
  EXPECT_FALSE(in.empty());
  EXPECT_THAT(in.ExpectEnd(), StatusIs(kInvalid, HasSubstr("2 unexpected")));
  EXPECT_THAT(in.GetFixed32(), StatusIs(kInvalid));
}

TEST(WireTest, ReadingAnEmptyInputIsInvalidArgumentForEveryType) {
  ByteReader in("");
  EXPECT_OK(in.ExpectEnd());
  EXPECT_THAT(in.GetVarint(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetSignedVarint(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetFixed32(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetFixed64(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetDouble(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetBool(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetBytes(), StatusIs(kInvalid));
  EXPECT_THAT(in.GetCount(1), StatusIs(kInvalid));
}

}  // namespace
}  // namespace mproc
