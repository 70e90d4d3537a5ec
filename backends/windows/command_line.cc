// Portable: the Windows command-line quoting rules (command_line.h).
#include "backends/windows/command_line.h"

#include <cstddef>

namespace mproc::windows {
namespace {

bool NeedsQuotes(absl::string_view argument) {
  return argument.empty() ||
         argument.find_first_of(" \t\n\v\"") != absl::string_view::npos;
}

}  // namespace

std::string QuoteArgument(absl::string_view argument) {
  if (!NeedsQuotes(argument)) return std::string(argument);
  std::string out = "\"";
  size_t backslashes = 0;
  for (const char c : argument) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '"') {
      // 2n+1 backslashes then the quote: n literal backslashes and a `"`.
      out.append(2 * backslashes + 1, '\\');
    } else {
      out.append(backslashes, '\\');
    }
    backslashes = 0;
    out.push_back(c);
  }
  // Before the closing quote, backslashes are doubled so it stays a quote.
  out.append(2 * backslashes, '\\');
  out.push_back('"');
  return out;
}

std::string BuildCommandLine(const std::vector<std::string>& arguments) {
  std::string out;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (i > 0) out.push_back(' ');
    if (i == 0) {
      // argv[0]: quoted whole, with no escapes (the C runtime takes
      // everything between the quotes literally).
      const bool plain = !NeedsQuotes(arguments[0]);
      if (plain) {
        out += arguments[0];
      } else {
        out += "\"" + arguments[0] + "\"";
      }
    } else {
      out += QuoteArgument(arguments[i]);
    }
  }
  return out;
}

std::vector<std::string> SplitCommandLine(absl::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  // argv[0]: up to the first space or tab outside quotes; quotes dropped.
  {
    std::string program;
    bool quoted = false;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == ' ' || c == '\t')) {
        break;
      } else {
        program.push_back(c);
      }
    }
    out.push_back(std::move(program));
  }
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string argument;
    bool quoted = false;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '\\') {
        size_t backslashes = 0;
        while (i < line.size() && line[i] == '\\') {
          ++backslashes;
          ++i;
        }
        if (i < line.size() && line[i] == '"') {
          argument.append(backslashes / 2, '\\');
          if (backslashes % 2 == 1) {
            argument.push_back('"');
            continue;  // the loop's ++i skips the escaped quote
          }
          --i;  // the quote is handled below, on the next iteration
        } else {
          argument.append(backslashes, '\\');
          --i;
        }
        continue;
      }
      if (c == '"') {
        // Inside quotes, `""` is a literal quote (the C runtime since 2008).
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          argument.push_back('"');
          ++i;
        } else {
          quoted = !quoted;
        }
      } else if (!quoted && (c == ' ' || c == '\t')) {
        break;
      } else {
        argument.push_back(c);
      }
    }
    out.push_back(std::move(argument));
  }
  return out;
}

}  // namespace mproc::windows
