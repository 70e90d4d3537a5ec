// -----------------------------------------------------------------------------
// File: tests/testing/regex_matchers.h
// -----------------------------------------------------------------------------
//
// MatchesRegex / ContainsRegex with the same regular expressions on every OS.
// GoogleTest's own matchers use POSIX extended regular expressions where the C
// library has <regex.h>, and otherwise (Windows) its "simple" dialect, which
// has no [], {}, | or (): a pattern written for one fails on the other. These
// use std::regex (ECMAScript), which has all of them everywhere.
//
//   EXPECT_THAT(p.name(), mproc::testing::MatchesRegex("Process-[0-9]+"));

#ifndef MPROC_TESTS_TESTING_REGEX_MATCHERS_H_
#define MPROC_TESTS_TESTING_REGEX_MATCHERS_H_

#include <ostream>
#include <regex>
#include <string>

#include "gmock/gmock.h"

namespace mproc::testing {

// Matches a string that `pattern` matches as a whole.
MATCHER_P(MatchesRegex, pattern,
          std::string(negation ? "doesn't match" : "matches") +
              " regular expression \"" + std::string(pattern) + "\"") {
  return std::regex_match(std::string(arg), std::regex(std::string(pattern)));
}

// Matches a string in which `pattern` matches somewhere.
MATCHER_P(ContainsRegex, pattern,
          std::string(negation ? "doesn't contain" : "contains") +
              " regular expression \"" + std::string(pattern) + "\"") {
  return std::regex_search(std::string(arg), std::regex(std::string(pattern)));
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_TESTING_REGEX_MATCHERS_H_
