// Replays the seed corpus and every input a fuzzer once crashed on
// (tests/fuzz/regressions/<harness>/) through each harness, in every build:
// a crash found by fuzzing stays fixed.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/harnesses.h"

namespace mproc::fuzz {
namespace {

// The files of `folder`, sorted; none when it does not exist.
std::vector<std::filesystem::path> FilesIn(
    const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

class CorpusReplayTest : public ::testing::TestWithParam<Harness> {};

TEST_P(CorpusReplayTest, EverySeedAndRegressionInputKeepsTheInvariants) {
  const std::filesystem::path root = MPROC_FUZZ_SOURCE_DIR;
  const std::vector<std::filesystem::path> seeds =
      FilesIn(root / "corpus" / GetParam().name);
  ASSERT_FALSE(seeds.empty())
      << "no seed corpus in " << (root / "corpus" / GetParam().name);
  std::vector<std::filesystem::path> inputs = seeds;
  for (const auto& path : FilesIn(root / "regressions" / GetParam().name)) {
    inputs.push_back(path);
  }
  for (const auto& path : inputs) {
    const std::string data = ReadFile(path);
    EXPECT_TRUE(GetParam().run(data).ok())
        << path << ": " << GetParam().run(data);
  }
}

INSTANTIATE_TEST_SUITE_P(Harnesses, CorpusReplayTest,
                         ::testing::ValuesIn(AllHarnesses().begin(),
                                             AllHarnesses().end()),
                         [](const ::testing::TestParamInfo<Harness>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace mproc::fuzz
