// Unit tests for api/internal/lifecycle.h: names, lifecycle errors and the
// CPython-style repr.
#include "api/internal/lifecycle.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StartsWithPhrase;
using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kPrecondition = absl::StatusCode::kFailedPrecondition;

TEST(ValidateNameTest, AcceptsOrdinaryMultiByteAndMaximumLengthNames) {
  EXPECT_OK(ValidateName("x"));
  EXPECT_OK(ValidateName("do_something process 1"));
  EXPECT_OK(ValidateName("caf\xc3\xa9"));               // U+00E9
  EXPECT_OK(ValidateName("\xe5\x90\x8d\xe5\x89\x8d"));  // U+540D U+524D
  EXPECT_OK(ValidateName("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_OK(ValidateName("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  EXPECT_OK(ValidateName("\xef\xbf\xbd"));              // U+FFFD
  EXPECT_OK(ValidateName(std::string(kMaxNameBytes, 'n')));
  // 1024 bytes ending in a two-byte character.
  EXPECT_OK(ValidateName(std::string(kMaxNameBytes - 2, 'n') + "\xc3\xa9"));
}

TEST(ValidateNameTest, RejectsEmptyName) {
  EXPECT_THAT(ValidateName(""), StatusIs(kInvalid, HasSubstr("empty")));
}

TEST(ValidateNameTest, RejectsNamesLongerThan1024Bytes) {
  EXPECT_THAT(ValidateName(std::string(kMaxNameBytes + 1, 'n')),
              StatusIs(kInvalid, HasSubstr("1024")));
  EXPECT_THAT(ValidateName(std::string(4096, 'n')),
              StatusIs(kInvalid, HasSubstr("4096")));
}

TEST(ValidateNameTest, RejectsNul) {
  EXPECT_THAT(ValidateName(std::string("a\0b", 3)),
              StatusIs(kInvalid, HasSubstr("NUL")));
  EXPECT_THAT(ValidateName(std::string(1, '\0')), StatusIs(kInvalid));
}

TEST(ValidateNameTest, RejectsInvalidUtf8) {
  const std::vector<std::string> bad = {
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong '/', three bytes
      "\xf0\x80\x80\xaf",  // overlong '/', four bytes
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "a\xc3",             // truncated at the end
      "\xe5\x90",          // truncated three-byte sequence
      "\xe5\x90x",         // continuation missing
      "\xf4\x90\x80\x80",  // U+110000
      "\x80",              // lone continuation byte
      "\xff",              // never valid
  };
  for (const std::string& name : bad) {
    EXPECT_THAT(ValidateName(name), StatusIs(kInvalid, HasSubstr("UTF-8")))
        << ::testing::PrintToString(name);
    EXPECT_FALSE(IsValidUtf8(name)) << ::testing::PrintToString(name);
  }
}

TEST(DefaultNameTest, JoinsTheIdentityWithColons) {
  EXPECT_EQ(DefaultName({1}), "Process-1");
  EXPECT_EQ(DefaultName({1, 2}), "Process-1:2");
  EXPECT_EQ(DefaultName({3, 10, 7}), "Process-3:10:7");
}

TEST(LifecycleErrorTest, EachErrorStartsWithTheCPythonPhrase) {
  struct Case {
    absl::Status status;
    std::string phrase;
  };
  const std::vector<Case> cases = {
      {StartedTwiceError(), "cannot start a process twice"},
      {NotStartedError("join"), "can only join a started process"},
      {NotStartedError("terminate"), "can only terminate a started process"},
      {NotAChildError("join"), "can only join a child process"},
      {AlreadyStartedError(), "process has already started"},
      {DaemonChildError(),
       "daemonic processes are not allowed to have children"},
      {CloseRunningError(), "Cannot close a process while it is still running"},
      {ClosedError(), "process object is closed"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(c.status, StatusIs(kPrecondition, StartsWithPhrase(c.phrase)));
    // The phrase is followed by what to do.
    EXPECT_GT(c.status.message().size(), c.phrase.size() + 2) << c.phrase;
  }
}

TEST(LifecycleErrorTest, BadInputErrorsAreInvalidArgument) {
  EXPECT_THAT(NegativeTimeoutError("join"),
              StatusIs(kInvalid, StartsWithPhrase("join timeout is negative")));
  EXPECT_THAT(EmptyTargetError(), StatusIs(kInvalid, HasSubstr("Target")));
  EXPECT_THAT(ClosureNotAllowedError("posix:spawn"),
              StatusIs(kInvalid, AllOf(HasSubstr("'posix:spawn'"),
                                       HasSubstr("MPROC_REGISTER_TARGET"))));
}

TEST(PythonQuoteTest, QuotesLikeCPythonRepr) {
  EXPECT_EQ(PythonQuote(""), "''");
  EXPECT_EQ(PythonQuote("Process-1"), "'Process-1'");
  EXPECT_EQ(PythonQuote("it's"), "\"it's\"");
  EXPECT_EQ(PythonQuote("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(PythonQuote("it's \"x\""), "'it\\'s \"x\"'");
  EXPECT_EQ(PythonQuote("a\\b"), "'a\\\\b'");
  EXPECT_EQ(PythonQuote("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

TEST(PythonQuoteTest, EscapesControlCharacters) {
  EXPECT_EQ(PythonQuote("a\nb"), "'a\\nb'");
  EXPECT_EQ(PythonQuote("\t\r"), "'\\t\\r'");
  EXPECT_EQ(PythonQuote("\x01"), "'\\x01'");
  EXPECT_EQ(PythonQuote("\x1f\x7f"), "'\\x1f\\x7f'");
  EXPECT_EQ(PythonQuote(std::string("\0", 1)), "'\\x00'");
}

ReprFields Fields(ReprState state) {
  ReprFields fields;
  fields.name = "Process-1";
  fields.parent_pid = 100;
  fields.state = state;
  if (state != ReprState::kInitial && state != ReprState::kClosed) {
    fields.pid = 123;
  }
  return fields;
}

TEST(FormatReprTest, InitialAndStarted) {
  EXPECT_EQ(FormatRepr(Fields(ReprState::kInitial)),
            "<Process name='Process-1' parent=100 initial>");
  EXPECT_EQ(FormatRepr(Fields(ReprState::kStarted)),
            "<Process name='Process-1' pid=123 parent=100 started>");
}

TEST(FormatReprTest, StoppedShowsTheExitcodeWithSignalNames) {
  ReprFields fields = Fields(ReprState::kStopped);
  fields.exitcode = 0;
  EXPECT_EQ(FormatRepr(fields),
            "<Process name='Process-1' pid=123 parent=100 stopped exitcode=0>");
  fields.exitcode = -15;
  EXPECT_EQ(FormatRepr(fields),
            "<Process name='Process-1' pid=123 parent=100 stopped "
            "exitcode=-SIGTERM>");
  fields.exitcode = -9;
  EXPECT_EQ(FormatRepr(fields),
            "<Process name='Process-1' pid=123 parent=100 stopped "
            "exitcode=-SIGKILL>");
  fields.exitcode = 3;
  EXPECT_EQ(FormatRepr(fields),
            "<Process name='Process-1' pid=123 parent=100 stopped exitcode=3>");
}

TEST(FormatReprTest, DaemonComesLast) {
  ReprFields fields = Fields(ReprState::kStopped);
  fields.exitcode = -15;
  fields.daemon = true;
  EXPECT_EQ(FormatRepr(fields),
            "<Process name='Process-1' pid=123 parent=100 stopped "
            "exitcode=-SIGTERM daemon>");
  ReprFields initial = Fields(ReprState::kInitial);
  initial.daemon = true;
  EXPECT_EQ(FormatRepr(initial),
            "<Process name='Process-1' parent=100 initial daemon>");
}

TEST(FormatReprTest, ClosedAndQuotedName) {
  EXPECT_EQ(FormatRepr(Fields(ReprState::kClosed)),
            "<Process name='Process-1' parent=100 closed>");
  ReprFields fields = Fields(ReprState::kStarted);
  fields.name = "it's";
  EXPECT_EQ(FormatRepr(fields),
            "<Process name=\"it's\" pid=123 parent=100 started>");
}

}  // namespace
}  // namespace mproc::internal
