// Unit tests for api/context.h: finding contexts by name. The thread backend
// is linked into this test, so "thread" is always available.
#include "api/context.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

TEST(ContextTest, UnknownBackendIsNotFoundAndListsTheAvailableOnes) {
  EXPECT_THAT(
      GetContext("no-such-backend"),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("'no-such-backend'"), HasSubstr("thread"))));
}

TEST(ContextTest, UnknownStartMethodIsNotFound) {
  EXPECT_THAT(
      GetContext("thread:bogus"),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("'thread:bogus'"), HasSubstr("thread"))));
  EXPECT_THAT(GetContext("thread:"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(GetContext(":thread"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ContextTest, ThreadContextByName) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("thread"));
  EXPECT_EQ(ctx.name(), "thread");
  EXPECT_EQ(ctx.backend().name(), "thread");
  EXPECT_EQ(ctx.start_method().name, "thread");
  EXPECT_TRUE(ctx.start_method().runs_closures);
  ASSERT_OK_AND_ASSIGN(Context explicit_method, GetContext("thread:thread"));
  EXPECT_TRUE(explicit_method == ctx);
  EXPECT_EQ(explicit_method.name(), "thread");
}

TEST(ContextTest, DefaultContextIsARegisteredBackend) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext());
  EXPECT_THAT(AvailableContexts(), Contains(ctx.name()));
}

TEST(ContextTest, AvailableContextsContainsThreadAndEachNameResolves) {
  const std::vector<std::string> names = AvailableContexts();
  EXPECT_THAT(names, Contains("thread"));
  for (const std::string& name : names) {
    ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(name));
    EXPECT_EQ(ctx.name(), name);
  }
}

}  // namespace
}  // namespace mproc
