// One targeted test per problem the fuzzers found, stating the property that
// broke (the inputs themselves are in tests/fuzz/regressions/).
#include <string>

#include "api/internal/manager_protocol.h"
#include "api/wire.h"
#include "gtest/gtest.h"
#include "tests/fuzz/scripted_transport.h"
#include "tests/testing/status_matchers.h"

namespace mproc::fuzz {
namespace {

using ::mproc::testing::StatusIs;

// fuzz_frame_reader ran at ~200 inputs/s: a 4-byte header claiming a
// payload of up to 64 MiB made FrameReader grow (and zero) its buffer to the
// claimed size before any of it arrived, again on every read. Any peer, even
// before it authenticates, could make a Manager commit 64 MiB per connection
// and spend a 64 MiB memset per byte it trickles in.
TEST(FuzzFindingsTest, FrameReaderBufferGrowsWithTheBytesReceived) {
  ByteWriter header;
  header.PutFixed32(internal::kMaxFramePayload);
  const std::string stream = header.data() + std::string(100, 'x');
  ScriptedChannel channel(stream, /*chunk_limits=*/{1});
  internal::FrameReader reader(channel);
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LE(channel.largest_read_offered(), size_t{64} << 10)
      << "a read buffer sized by the header's claim, not by what arrived";
}

}  // namespace
}  // namespace mproc::fuzz
