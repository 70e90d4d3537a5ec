#include "tests/stress/soak.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "tests/testing/wait.h"

namespace mproc::soak {

int64_t SizeFromEnv(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value <= 0) {
    ADD_FAILURE() << name << "='" << text
                  << "' is not a positive integer; using " << fallback;
    return fallback;
  }
  return value;
}

std::optional<int64_t> ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = 0;
    if (fields >> kib) return kib;
  }
  return std::nullopt;
}

void PrintFigures(absl::string_view label, absl::string_view figures) {
  std::cout << absl::StrCat("[soak] ", label, " ", figures, "\n") << std::flush;
}

std::string SoakName(
    const ::testing::TestParamInfo<conformance::BackendUnderTest>& info) {
  return info.param.label;
}

void SoakTest::SetUp() {
  absl::StatusOr<Context> context = GetContext(GetParam().context);
  ASSERT_TRUE(context.ok()) << context.status();
  context_ = *context;
  ASSERT_TRUE(ActiveChildren().empty())
      << "a previous test left children running";
}

conformance::ResourceSnapshot SoakTest::ProbeOnceReaped(
    const conformance::ResourceSnapshot& baseline) const {
  conformance::ResourceSnapshot now = Probe();
  testing::WaitUntil(
      [&] {
        now = Probe();
        return now.children <= baseline.children;
      },
      kDeadline);
  return now;
}

}  // namespace mproc::soak
