// POSIX only: Manager socket directories (the portable path; Linux uses
// abstract addresses) are made only under a safe $TMPDIR, and removed through
// descriptors, never by path.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/manager.h"
#include "backends/posix/unix_socket_transport.h"
#include "gmock/gmock.h"
#include "gsl/util"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

// A fresh directory under /tmp, removed (with its contents) at the end of
// the test, set as $TMPDIR for the test's duration; Managers started
// meanwhile use socket directories (the portable path) on Linux too.
class ScopedTmpdir {
 public:
  ScopedTmpdir() {
    std::string pattern = "/tmp/mproc-tmpdir-test-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    if (const char* old = std::getenv("TMPDIR")) old_ = std::string(old);
    setenv("TMPDIR", path_.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_.has_value()) {
      setenv("TMPDIR", old_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }

 private:
  posix::ScopedFilesystemSocketsForTesting filesystem_sockets_;
  std::string path_;
  std::optional<std::string> old_;
};

int EntriesIn(const std::string& directory) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(directory)) {
    ++count;
  }
  return count;
}

#ifdef __linux__
// Abstract addresses never touch the filesystem, so no $TMPDIR can spoil
// them.
TEST(PosixTmpdirTest, AbstractAddressesIgnoreAnUnsafeTmpdir) {
  std::string path = "/tmp/mproc-tmpdir-test-XXXXXX";
  ASSERT_NE(mkdtemp(path.data()), nullptr);
  const auto remove = gsl::finally([&] { std::filesystem::remove_all(path); });
  ASSERT_EQ(chmod(path.c_str(), 0777), 0);  // world-writable, not sticky
  std::optional<std::string> old;
  if (const char* value = std::getenv("TMPDIR")) old = std::string(value);
  setenv("TMPDIR", path.c_str(), 1);
  const auto restore = gsl::finally([&] {
    if (old.has_value()) {
      setenv("TMPDIR", old->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  });
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  EXPECT_OK(list.Append(1));
  EXPECT_OK(manager.Shutdown());
  EXPECT_EQ(EntriesIn(path), 0);
}
#endif

TEST(PosixTmpdirTest, WorldWritableTmpdirWithoutStickyBitIsRefused) {
  ScopedTmpdir tmpdir;
  ASSERT_TRUE(tmpdir.ok());
  ASSERT_EQ(chmod(tmpdir.path().c_str(), 0777), 0);
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  absl::StatusOr<Manager> manager = ctx.StartManager();
  EXPECT_THAT(manager.status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("TMPDIR")));
  EXPECT_THAT(manager.status().message(), HasSubstr("sticky"));
  if (manager.ok()) {
    ASSERT_OK(manager->Shutdown());
  }
  EXPECT_EQ(EntriesIn(tmpdir.path()), 0);
}

TEST(PosixTmpdirTest, TmpdirOwnedByAnotherUserIsRefused) {
  ScopedTmpdir tmpdir;
  ASSERT_TRUE(tmpdir.ok());
  const uid_t other = geteuid() == 0 ? 65534 : 0;
  if (chown(tmpdir.path().c_str(), other, static_cast<gid_t>(-1)) != 0) {
    GTEST_SKIP() << "cannot give a directory to another user (not root)";
  }
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  absl::StatusOr<Manager> manager = ctx.StartManager();
  EXPECT_THAT(manager.status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("TMPDIR")));
  if (manager.ok()) {
    ASSERT_OK(manager->Shutdown());
  }
  EXPECT_EQ(EntriesIn(tmpdir.path()), 0);
}

TEST(PosixTmpdirTest, StickyWorldWritableTmpdirWorksAndIsLeftClean) {
  ScopedTmpdir tmpdir;
  ASSERT_TRUE(tmpdir.ok());
  ASSERT_EQ(chmod(tmpdir.path().c_str(), 01777), 0);
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  EXPECT_EQ(EntriesIn(tmpdir.path()), 1);  // the socket directory
  ASSERT_OK(manager.Shutdown());
  EXPECT_EQ(EntriesIn(tmpdir.path()), 0);
}

TEST(PosixTmpdirTest, SocketDirectoryIsRemovedEvenAfterItsBaseMoved) {
  ScopedTmpdir tmpdir;
  ASSERT_TRUE(tmpdir.ok());
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  // Connects now: Shutdown then needs no path.
  ASSERT_OK(manager.List<int64_t>().status());
  const std::string moved = tmpdir.path() + "-moved";
  ASSERT_EQ(rename(tmpdir.path().c_str(), moved.c_str()), 0);
  const auto cleanup = gsl::finally([&] {
    std::error_code ignored;
    std::filesystem::remove_all(moved, ignored);
  });
  EXPECT_EQ(EntriesIn(moved), 1);
  // Removal by path would miss it: the path it was made at is gone.
  ASSERT_OK(manager.Shutdown());
  EXPECT_EQ(EntriesIn(moved), 0);
}

}  // namespace
}  // namespace mproc
