// The windows backend's command-line quoting (pure; runs on every OS).
#include <string>
#include <vector>

#include "backends/windows/command_line.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mproc::windows {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

TEST(WindowsQuoteArgumentTest, PlainArgumentsAreUnchanged) {
  EXPECT_EQ(QuoteArgument("abc"), "abc");
  EXPECT_EQ(QuoteArgument("--mproc-windows-child=1234"),
            "--mproc-windows-child=1234");
  EXPECT_EQ(QuoteArgument(R"(C:\dir\file)"), R"(C:\dir\file)");
  // Backslashes not before a quote are literal, even at the end.
  EXPECT_EQ(QuoteArgument(R"(a\\b\)"), R"(a\\b\)");
}

TEST(WindowsQuoteArgumentTest, EmptyArgumentIsQuoted) {
  EXPECT_EQ(QuoteArgument(""), R"("")");
}

TEST(WindowsQuoteArgumentTest, SpacesAndTabsAreQuoted) {
  EXPECT_EQ(QuoteArgument("a b"), R"("a b")");
  EXPECT_EQ(QuoteArgument("a\tb"), "\"a\tb\"");
  EXPECT_EQ(QuoteArgument(" "), R"(" ")");
  EXPECT_EQ(QuoteArgument("a\nb"), "\"a\nb\"");
}

TEST(WindowsQuoteArgumentTest, QuotesAreEscaped) {
  EXPECT_EQ(QuoteArgument(R"(a"b)"), R"("a\"b")");
  EXPECT_EQ(QuoteArgument(R"(")"), R"("\"")");
  // n backslashes before a quote become 2n+1.
  EXPECT_EQ(QuoteArgument(R"(a\"b)"), R"("a\\\"b")");
  EXPECT_EQ(QuoteArgument(R"(a\\"b)"), R"("a\\\\\"b")");
}

TEST(WindowsQuoteArgumentTest, TrailingBackslashesAreDoubledInsideQuotes) {
  EXPECT_EQ(QuoteArgument(R"(C:\Program Files\)"), R"("C:\Program Files\\")");
  EXPECT_EQ(QuoteArgument(R"(a b\\)"), R"("a b\\\\")");
}

TEST(WindowsQuoteArgumentTest, NonAsciiPassesThrough) {
  EXPECT_EQ(QuoteArgument("日本語"), "日本語");
  EXPECT_EQ(QuoteArgument("Grüße aus Köln"), "\"Grüße aus Köln\"");
  EXPECT_EQ(QuoteArgument("😀\""), "\"😀\\\"\"");
}

TEST(WindowsBuildCommandLineTest, ProgramIsQuotedWholeWithoutEscapes) {
  EXPECT_EQ(BuildCommandLine({R"(C:\Program Files\t.exe)", "--x=1"}),
            R"("C:\Program Files\t.exe" --x=1)");
  EXPECT_EQ(BuildCommandLine({R"(Z:\work\t.exe)", "a b", ""}),
            R"(Z:\work\t.exe "a b" "")");
}

TEST(WindowsSplitCommandLineTest, SplitsAsTheCRuntimeDoes) {
  // Examples from Microsoft's "Parsing C command-line arguments".
  EXPECT_THAT(SplitCommandLine(R"(p "a b c" d e)"),
              ElementsAre("p", "a b c", "d", "e"));
  EXPECT_THAT(SplitCommandLine(R"(p "ab\"c" "\\" d)"),
              ElementsAre("p", R"(ab"c)", R"(\)", "d"));
  EXPECT_THAT(SplitCommandLine(R"(p a\\\b d"e f"g h)"),
              ElementsAre("p", R"(a\\\b)", "de fg", "h"));
  EXPECT_THAT(SplitCommandLine(R"(p a\\\"b c d)"),
              ElementsAre("p", R"(a\"b)", "c", "d"));
  EXPECT_THAT(SplitCommandLine(R"(p a\\\\"b c" d e)"),
              ElementsAre("p", R"(a\\b c)", "d", "e"));
  EXPECT_THAT(SplitCommandLine(R"("C:\Program Files\t.exe" x)"),
              ElementsAre(R"(C:\Program Files\t.exe)", "x"));
}

TEST(WindowsSplitCommandLineTest, RoundTripsHardArguments) {
  const std::vector<std::string> arguments = {
      R"(C:\Program Files\mproc\t.exe)",
      "",
      " ",
      "plain",
      "two words",
      "tab\there",
      R"(quote"inside)",
      R"("quoted")",
      R"(trailing\)",
      R"(trailing space\ )",
      R"(two trailing\\)",
      R"(with space and trailing\\)",
      R"(\\server\share\)",
      R"(back\"slash quote)",
      R"(\\\")",
      "日本語 テキスト",
      "Grüße\\",
      "😀 \"😀\"",
  };
  EXPECT_THAT(SplitCommandLine(BuildCommandLine(arguments)),
              ElementsAreArray(arguments));
}

}  // namespace
}  // namespace mproc::windows
