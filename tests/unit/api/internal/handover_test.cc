// Unit tests for api/internal/handover.h: the handover table that Codecs of
// OS objects fill while Target() encodes arguments.
#include "api/internal/handover.h"

#include <memory>

#include "api/codec.h"
#include "api/target.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {

// A stand-in OS object and a handle type whose Codec records it.
class FakeObject final : public SharedObject {};
struct Handle {
  std::shared_ptr<FakeObject> object;
};

template <>
struct Codec<Handle> {
  static void Encode(const Handle& h, ByteWriter& out) {
    out.PutVarint(internal::RecordHandover(h.object));
  }
  static absl::StatusOr<Handle> Decode(ByteReader& in) {
    absl::StatusOr<uint64_t> index = in.GetVarint();
    if (!index.ok()) return index.status();
    absl::StatusOr<std::shared_ptr<SharedObject>> object =
        internal::HandedOver(*index);
    if (!object.ok()) return object.status();
    return Handle{std::dynamic_pointer_cast<FakeObject>(*object)};
  }
};

namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

void TakesTwoHandles(Handle, Handle) {}
MPROC_REGISTER_TARGET(TakesTwoHandles);

TEST(HandoverTest, NoCollectorMeansNotHandedOver) {
  auto object = std::make_shared<FakeObject>();
  EXPECT_EQ(internal::RecordHandover(object), internal::kNotHandedOver);
  EXPECT_THAT(internal::HandedOver(internal::kNotHandedOver),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("target argument")));
}

TEST(HandoverTest, CollectorRecordsEachObjectOnceInOrder) {
  auto a = std::make_shared<FakeObject>();
  auto b = std::make_shared<FakeObject>();
  internal::HandoverCollector collector;
  EXPECT_EQ(internal::RecordHandover(a), 0u);
  EXPECT_EQ(internal::RecordHandover(b), 1u);
  EXPECT_EQ(internal::RecordHandover(a), 0u);
  {
    internal::HandoverCollector inner;  // hides the outer one
    EXPECT_EQ(internal::RecordHandover(b), 0u);
  }
  EXPECT_EQ(internal::RecordHandover(b), 1u);
  auto taken = collector.Take();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0], a);
  EXPECT_EQ(taken[1], b);
}

TEST(HandoverTest, TargetCarriesTheTableOfItsArguments) {
  auto a = std::make_shared<FakeObject>();
  auto b = std::make_shared<FakeObject>();
  TargetCall call = Target(&TakesTwoHandles, Handle{b}, Handle{a});
  ASSERT_TRUE(call.registered());
  ASSERT_EQ(call.handovers().size(), 2u);
  EXPECT_EQ(call.handovers()[0], b);
  EXPECT_EQ(call.handovers()[1], a);
  // Nothing collected outside Target().
  EXPECT_EQ(internal::RecordHandover(a), internal::kNotHandedOver);
}

TEST(HandoverTest, TheMainProcessHasNoTable) {
  EXPECT_THAT(internal::HandedOver(0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("0 objects were handed over")));
}

}  // namespace
}  // namespace mproc
