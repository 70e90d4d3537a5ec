// Thread backend only: a refused thread start follows the one error mapping.
#include <system_error>

#include "backends/thread/thread_child.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::thread {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ThreadErrorsTest, TryAgainIsUnavailableAsOnEveryBackend) {
  const std::system_error again(
      std::make_error_code(std::errc::resource_unavailable_try_again));
  EXPECT_THAT(
      ThreadStartError(again, "worker"),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("cannot start a thread for process 'worker'")));
}

TEST(ThreadErrorsTest, OtherRefusalsKeepTheirMappedCode) {
  const std::system_error no_memory(
      std::make_error_code(std::errc::not_enough_memory));
  EXPECT_THAT(ThreadStartError(no_memory, "worker"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  const std::system_error invalid(
      std::make_error_code(std::errc::invalid_argument));
  EXPECT_THAT(ThreadStartError(invalid, "worker"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mproc::thread
