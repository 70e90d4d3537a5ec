// The ring logic of Queue<T> (api/internal/queue_ring.h): marks, records
// that wrap, the free space, and a record that does not fit what is used.
#include "api/internal/queue_ring.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;

TEST(RingMarkTest, PacksOffsetAndSequenceInOneWord) {
  const RingMark mark{.offset = 0x1234, .seq = 0xfedc'ba98};
  EXPECT_EQ(mark.Pack(), uint64_t{0xfedc'ba98'0000'1234});
  EXPECT_EQ(RingMark::Unpack(mark.Pack()), mark);
  EXPECT_EQ(RingMark::Unpack(0), RingMark{});
}

TEST(RingMarkTest, CountsRecordsAcrossTheSequenceWrap) {
  EXPECT_EQ(RecordCount(RingMark{0, 0xffff'fffe}, RingMark{0, 1}), 3u);
  EXPECT_EQ(RecordCount(RingMark{8, 7}, RingMark{8, 7}), 0u);
}

TEST(RecordBytesTest, AddsTheHeaderAndRoundsUpToTheAlignment) {
  EXPECT_EQ(RecordBytes(0), 4u);
  EXPECT_EQ(RecordBytes(1), 8u);
  EXPECT_EQ(RecordBytes(4), 8u);
  EXPECT_EQ(RecordBytes(5), 12u);
  EXPECT_EQ(RecordBytes(60), 64u);
}

class RingViewTest : public ::testing::Test {
 protected:
  static constexpr size_t kCapacity = 64;
  std::vector<std::byte> bytes_ = std::vector<std::byte>(kCapacity);
  RingView ring_{gsl::span<std::byte>(bytes_)};
  RingMark head_;
  RingMark tail_;

  void Put(const std::string& item) {
    ASSERT_GE(ring_.Free(head_, tail_), RecordBytes(item.size()));
    tail_ = ring_.Write(tail_, item);
  }
  std::string Take() {
    std::string out;
    absl::StatusOr<RingMark> next = ring_.Read(head_, tail_, out);
    EXPECT_OK(next.status());
    if (next.ok()) head_ = *next;
    return out;
  }
};

TEST_F(RingViewTest, StartsEmpty) {
  EXPECT_EQ(ring_.capacity(), kCapacity);
  EXPECT_EQ(ring_.Used(head_, tail_), 0u);
  EXPECT_EQ(ring_.Free(head_, tail_), kCapacity);
}

TEST_F(RingViewTest, ReturnsItemsInOrderAndFreesTheirBytes) {
  Put("abc");
  Put("");
  Put("defgh");
  EXPECT_EQ(RecordCount(head_, tail_), 3u);
  EXPECT_EQ(ring_.Used(head_, tail_), 8u + 4u + 12u);
  EXPECT_EQ(Take(), "abc");
  EXPECT_EQ(Take(), "");
  EXPECT_EQ(Take(), "defgh");
  EXPECT_EQ(RecordCount(head_, tail_), 0u);
  EXPECT_EQ(ring_.Free(head_, tail_), kCapacity);
  EXPECT_EQ(head_, tail_);
}

TEST_F(RingViewTest, ARecordOfTheWholeRingFillsItExactly) {
  const std::string whole(kCapacity - kRingHeaderBytes, 'w');
  Put("x");  // so that the whole-ring record starts mid-ring and wraps
  EXPECT_EQ(Take(), "x");
  Put(whole);
  EXPECT_EQ(ring_.Used(head_, tail_), kCapacity);
  EXPECT_EQ(ring_.Free(head_, tail_), 0u);
  EXPECT_EQ(head_.offset, tail_.offset);  // full, not empty: the count says
  EXPECT_EQ(Take(), whole);
  EXPECT_EQ(ring_.Used(head_, tail_), 0u);
}

TEST_F(RingViewTest, RecordsOfEverySizeWrapAroundUnchanged) {
  std::deque<std::string> expected;
  for (int round = 0; round < 50; ++round) {
    for (size_t size = 0; size <= kCapacity - kRingHeaderBytes; ++size) {
      std::string item(size, '\0');
      for (size_t i = 0; i < size; ++i) {
        item[i] = static_cast<char>('A' + (round + size + i) % 26);
      }
      while (ring_.Free(head_, tail_) < RecordBytes(size)) {
        ASSERT_FALSE(expected.empty());
        ASSERT_EQ(Take(), expected.front());
        expected.pop_front();
      }
      Put(item);
      expected.push_back(item);
      ASSERT_LE(ring_.Used(head_, tail_), kCapacity);
    }
  }
  while (!expected.empty()) {
    ASSERT_EQ(Take(), expected.front());
    expected.pop_front();
  }
  EXPECT_EQ(ring_.Used(head_, tail_), 0u);
}

TEST_F(RingViewTest, ARecordLongerThanTheUsedBytesIsDataLoss) {
  Put("abc");
  const uint32_t bogus = 1000;
  std::memcpy(bytes_.data() + head_.offset, &bogus, sizeof(bogus));
  std::string out;
  EXPECT_THAT(ring_.Read(head_, tail_, out),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace mproc::internal
