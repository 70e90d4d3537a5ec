// POSIX only: the file to re-execute for posix:spawn (/proc/self/exe on
// Linux, else argv[0] as the program was started).
#include "backends/posix/self_program.h"

#include <sys/stat.h>
#include <unistd.h>

#if MPROC_POSIX_HAVE_PROC_SELF_EXE
#include <link.h>
#include <sys/sysmacros.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/posix/posix_errors.h"

namespace mproc::posix {
namespace {

// argv[0] and the path it resolved to (null where it did not), recorded at
// program start; kept for the process's life.
constinit std::atomic<const std::string*> recorded_argv0{nullptr};
constinit std::atomic<const std::string*> recorded_path{nullptr};

// The executable regular file `path` names, made absolute against `cwd`, or
// empty.
std::string ExecutableAt(const std::string& path, const std::string& cwd) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
      access(path.c_str(), X_OK) != 0) {
    return "";
  }
  return path[0] == '/' ? path : absl::StrCat(cwd, "/", path);
}

// Where the shell found `argv0`: itself when it holds a '/', else the first
// executable file of that name on $PATH (execvp's rule). Empty if none.
std::string ResolveArgv0(const std::string& argv0) {
  if (argv0.empty()) return "";
  std::string cwd(4096, '\0');
  if (getcwd(cwd.data(), cwd.size()) == nullptr) return "";
  cwd.resize(std::strlen(cwd.c_str()));
  if (argv0.find('/') != std::string::npos) return ExecutableAt(argv0, cwd);
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    // An empty entry is the working directory.
    std::string found =
        ExecutableAt(dir.empty() ? argv0 : absl::StrCat(dir, "/", argv0), cwd);
    if (!found.empty()) return found;
  }
  return "";
}

#if MPROC_POSIX_HAVE_PROC_SELF_EXE

constexpr char kSelfExe[] = "/proc/self/exe";

// Where a file is: what /proc/self/maps and stat() both tell.
struct FileId {
  unsigned major = 0;
  unsigned minor = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

FileId IdOf(const struct stat& info) {
  return FileId{major(info.st_dev), minor(info.st_dev), info.st_ino};
}

// An address inside the main program's first loaded segment: the first
// object dl_iterate_phdr visits is always the main program.
uintptr_t MainProgramAddress() {
  uintptr_t address = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) -> int {
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            *static_cast<uintptr_t*>(out) =
                info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            break;
          }
        }
        return 1;  // the main program only
      },
      &address);
  return address;
}

struct Mapping {
  FileId id;
  std::string path;
};

// The file mapped at `address`, from a line of /proc/self/maps:
// "start-end perms offset major:minor inode   path".
absl::StatusOr<Mapping> FileMappedAt(uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  if (!maps.is_open()) {
    return ErrnoStatus(errno, "open(/proc/self/maps)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors; posix:spawn needs /proc");
  }
  std::string line;
  while (std::getline(maps, line)) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::MaxSplits(' ', 5), absl::SkipEmpty());
    if (fields.size() < 6) continue;
    std::vector<absl::string_view> range = absl::StrSplit(fields[0], '-');
    std::vector<absl::string_view> device = absl::StrSplit(fields[3], ':');
    uint64_t start = 0, end = 0;
    Mapping mapping;
    if (range.size() != 2 || device.size() != 2 ||
        !absl::SimpleHexAtoi(range[0], &start) ||
        !absl::SimpleHexAtoi(range[1], &end) ||
        !absl::SimpleHexAtoi(device[0], &mapping.id.major) ||
        !absl::SimpleHexAtoi(device[1], &mapping.id.minor) ||
        !absl::SimpleAtoi(fields[4], &mapping.id.inode)) {
      continue;
    }
    if (address < start || address >= end) continue;
    mapping.path = std::string(absl::StripLeadingAsciiWhitespace(fields[5]));
    return mapping;
  }
  return absl::FailedPreconditionError(
      "cannot find the main program in /proc/self/maps");
}

absl::StatusOr<std::string> FindProgram() {
  struct stat self;
  if (stat(kSelfExe, &self) != 0) {
    return ErrnoStatus(errno, "stat(/proc/self/exe)",
                       "posix:spawn needs /proc; mount it, or use posix:fork");
  }
  absl::StatusOr<Mapping> main = FileMappedAt(MainProgramAddress());
  if (!main.ok()) return main.status();
  if (main->id == IdOf(self)) return std::string(kSelfExe);
  // Started through a loader or an emulator: execute the program itself.
  struct stat program;
  if (!main->path.empty() && main->path[0] == '/' &&
      stat(main->path.c_str(), &program) == 0 && IdOf(program) == main->id &&
      access(main->path.c_str(), X_OK) == 0) {
    return main->path;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "posix:spawn starts this program again, but /proc/self/exe is not the "
      "main program (it was started through a loader or an emulator such as "
      "valgrind) and the main program's file '",
      main->path,
      "' is gone or not executable; start the program directly, or use "
      "posix:fork"));
}

#else  // argv[0] (a port adds its OS's own call here: _NSGetExecutablePath,
       // sysctl KERN_PROC_PATHNAME, getexecname)

absl::StatusOr<std::string> FindProgram() {
  const std::string* argv0 = recorded_argv0.load(std::memory_order_acquire);
  const std::string* path = recorded_path.load(std::memory_order_acquire);
  if (argv0 == nullptr) {
    return absl::FailedPreconditionError(
        "posix:spawn starts this program again and finds it through argv[0] "
        "here: call mproc::RunChildIfRequested(argc, argv) first in main");
  }
  if (path == nullptr || access(path->c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "posix:spawn starts this program again, but its argv[0] '", *argv0,
        "' names no executable file (not found on $PATH from the starting "
        "directory, or moved or deleted since); start it by its path, or use "
        "posix:fork"));
  }
  return *path;
}

#endif

}  // namespace

void RecordProgramArgv0(const char* argv0) {
  if (argv0 == nullptr) return;
  const std::string* expected = nullptr;
  auto* name = new std::string(argv0);  // kept for the process's life
  if (!recorded_argv0.compare_exchange_strong(expected, name,
                                              std::memory_order_acq_rel)) {
    delete name;  // recorded already
    return;
  }
  if (MPROC_POSIX_HAVE_PROC_SELF_EXE) return;  // only the name is used
  if (std::string path = ResolveArgv0(*name); !path.empty()) {
    recorded_path.store(new std::string(std::move(path)),
                        std::memory_order_release);
  }
}

const char* ProgramArgv0() {
  if (const std::string* argv0 =
          recorded_argv0.load(std::memory_order_acquire)) {
    return argv0->c_str();
  }
#ifdef __GLIBC__
  return program_invocation_name;
#else
  return "mproc";
#endif
}

absl::StatusOr<std::string> ProgramToReexecute() {
  // Lock-free (a forked child never inherits a held lock); only a success is
  // kept, so a passing failure (no descriptor left) is not remembered.
  static std::atomic<const std::string*> found{nullptr};
  if (const std::string* program = found.load(std::memory_order_acquire)) {
    return *program;
  }
  absl::StatusOr<std::string> program = FindProgram();
  if (!program.ok()) return program.status();
  const std::string* expected = nullptr;
  auto* made = new std::string(*program);  // kept for the process's life
  if (!found.compare_exchange_strong(expected, made,
                                     std::memory_order_acq_rel)) {
    delete made;
  }
  return program;
}

}  // namespace mproc::posix
