// POSIX only: errno to Status, and the advice for a failed child start names
// the real cause.
#include "backends/posix/posix_errors.h"

#include <cerrno>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::posix {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PosixErrorsTest, ErrnoStatusKeepsTheMappedCodeAndAddsAdvice) {
  EXPECT_THAT(ErrnoStatus(EAGAIN, "fork", "do this"),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("fork"), HasSubstr("; do this"))));
  EXPECT_THAT(ErrnoStatus(EMFILE, "socket", ""),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

std::string Advice(int error) { return std::string(ProcessStartAdvice(error)); }

TEST(PosixErrorsTest, ProcessStartAdviceNamesTheRealCause) {
  EXPECT_THAT(Advice(EAGAIN), HasSubstr("ulimit -u"));
  EXPECT_THAT(Advice(ENOMEM),
              AllOf(HasSubstr("memory"), Not(HasSubstr("ulimit -u"))));
  for (int error : {EMFILE, ENFILE}) {
    EXPECT_THAT(Advice(error),
                AllOf(HasSubstr("ulimit -n"), Not(HasSubstr("processes"))));
  }
  EXPECT_THAT(Advice(EBADF),
              AllOf(HasSubstr("descriptor"), Not(HasSubstr("processes")),
                    Not(HasSubstr("memory"))));
  for (int error : {ENOENT, EACCES, ENOEXEC}) {
    EXPECT_THAT(Advice(error),
                AllOf(HasSubstr("program"), Not(HasSubstr("processes"))));
  }
}

}  // namespace
}  // namespace mproc::posix
