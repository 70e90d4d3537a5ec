// -----------------------------------------------------------------------------
// File: backends/windows/command_line.h
// -----------------------------------------------------------------------------
//
// The Windows command line of a child: pure functions, portable (unit-tested
// on every OS). Windows passes a process one string, which the C runtime of
// the child (and CommandLineToArgvW) splits back into arguments by these
// rules:
//
// - arguments are separated by spaces or tabs outside double quotes;
// - 2n backslashes before a `"` give n backslashes, and the `"` opens or
//   closes a quoted part; 2n+1 backslashes before a `"` give n backslashes
//   and a literal `"`;
// - backslashes not followed by a `"` are literal.
//
// The text is UTF-8 here; the backend converts it to UTF-16 at the Win32
// edge. Non-ASCII characters pass through unchanged (the rules only look at
// ASCII space, tab, newline, vertical tab, `"` and `\`, which never occur
// inside a UTF-8 multi-byte sequence).

#ifndef MPROC_BACKENDS_WINDOWS_COMMAND_LINE_H_
#define MPROC_BACKENDS_WINDOWS_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mproc::windows {

// `argument` quoted so that the child's C runtime reads it back exactly:
// unchanged when it is non-empty and holds no space, tab, newline, vertical
// tab or `"`; otherwise in double quotes, with the backslashes before each
// `"` (and before the closing quote) doubled and each `"` escaped.
std::string QuoteArgument(absl::string_view argument);

// The command line for `arguments` (arguments[0] is the program): each
// argument quoted by QuoteArgument, separated by single spaces. The program
// name is always quoted unless it is plain, and it must not contain `"` (no
// Windows path does): the C runtime reads argv[0] by simpler rules.
std::string BuildCommandLine(const std::vector<std::string>& arguments);

// The inverse of BuildCommandLine for every argument but the first: splits a
// command line as the C runtime does (the rules above; argv[0] ends at the
// first space or tab outside quotes, and its quotes are dropped, backslashes
// kept). For tests, and for a child that reads its own command line.
std::vector<std::string> SplitCommandLine(absl::string_view command_line);

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_COMMAND_LINE_H_
