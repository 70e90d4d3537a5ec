// Unit tests for the ListProxy codec (api/manager.h): a proxy travels to a
// child as a target argument. No Manager server is started here; the thread
// backend is linked so that an endpoint naming it decodes.
#include "api/manager.h"

#include <cstdint>
#include <string>
#include <vector>

#include "api/internal/manager_protocol.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

std::string EndpointBytes(absl::string_view backend, absl::string_view authkey,
                          uint64_t id) {
  ByteWriter out;
  out.PutBytes(backend);
  out.PutBytes("test-address");
  out.PutBytes(authkey);
  out.PutVarint(id);
  return out.Release();
}

const std::string& Authkey() {
  static const std::string* const key =
      new std::string(internal::kAuthkeySize, '\x11');
  return *key;
}

TEST(ListProxyCodecTest, UnboundProxyRoundTripsToUnbound) {
  const std::string bytes = EncodeValue(ListProxy<int>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int> decoded,
                       DecodeValue<ListProxy<int>>(bytes));
  EXPECT_THAT(decoded.Size(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(EncodeValue(decoded), bytes);
}

TEST(ListProxyCodecTest, UnboundProxyCallsFailWithFailedPrecondition) {
  const ListProxy<double> proxy;
  const auto kPrecondition = absl::StatusCode::kFailedPrecondition;
  EXPECT_THAT(proxy.Append(1.0), StatusIs(kPrecondition, HasSubstr("bound")));
  const std::vector<double> values = {1.0, 2.0};
  EXPECT_THAT(proxy.Extend(values), StatusIs(kPrecondition));
  EXPECT_THAT(proxy.Size(), StatusIs(kPrecondition));
  EXPECT_THAT(proxy.Get(0), StatusIs(kPrecondition));
  EXPECT_THAT(proxy.Snapshot(), StatusIs(kPrecondition));
}

TEST(ListProxyCodecTest, BoundProxyRoundTripsItsEndpointAndId) {
  const std::string bytes = EndpointBytes("thread", Authkey(), 7);
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> decoded,
                       DecodeValue<ListProxy<std::string>>(bytes));
  EXPECT_EQ(EncodeValue(decoded), bytes);
  // Nested in a vector, as a target argument list may hold it.
  ASSERT_OK_AND_ASSIGN(
      std::vector<ListProxy<std::string>> many,
      DecodeValue<std::vector<ListProxy<std::string>>>(
          EncodeValue(std::vector<ListProxy<std::string>>{decoded, {}})));
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(EncodeValue(many[0]), bytes);
  EXPECT_EQ(EncodeValue(many[1]), EncodeValue(ListProxy<std::string>()));
}

TEST(ListProxyCodecTest, ProxyForABackendNotLinkedInIsNotFound) {
  EXPECT_THAT(
      DecodeValue<ListProxy<int>>(
          EndpointBytes("no-such-backend", Authkey(), 1)),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-backend")));
}

TEST(ListProxyCodecTest, MalformedProxyIsInvalidArgument) {
  EXPECT_THAT(
      DecodeValue<ListProxy<int>>(EndpointBytes("thread", "short", 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("authkey")));
  const std::string bytes = EndpointBytes("thread", Authkey(), 300);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THAT(DecodeValue<ListProxy<int>>(bytes.substr(0, n)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "prefix of " << n << " bytes";
  }
  EXPECT_THAT(DecodeValue<ListProxy<int>>(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mproc
