// support/atomic_file.h: an output file is written whole or not at all. A failing write is made
// with RLIMIT_FSIZE (EFBIG on every byte past the limit), which holds for root too, unlike
// permissions.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "support/atomic_file.h"

namespace {

namespace fs = std::filesystem;

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("nos-atomic-" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const fs::directory_entry& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Lowers the file size limit for its lifetime; writes past it fail with EFBIG.
struct FileSizeLimit {
  rlimit saved{};
  void (*saved_handler)(int);
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved);
    saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower{bytes, saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, saved_handler);
  }
};

std::string error_of(const fs::path& path, std::string_view bytes, std::string_view what) {
  try {
    nos::support::write_file_atomically(path, bytes, what);
  } catch (const nos::support::FileError& e) {  // the one exception every tool maps to exit 1
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("atomic file: writes, replaces, and leaves no temporary beside it") {
  ScratchDir dir;
  fs::path out = dir.path / "out.json";
  nos::support::write_file_atomically(out, "first\n");
  CHECK(slurp(out) == "first\n");
  nos::support::write_file_atomically(out, "second\n");
  CHECK(slurp(out) == "second\n");
  nos::support::write_file_atomically(dir.path / "empty", "");
  CHECK(fs::file_size(dir.path / "empty") == 0);
  CHECK(dir.names() == std::vector<std::string>{"empty", "out.json"});
  // Created with the usual permissions (0666 less the umask), not mkstemp's 0600.
  mode_t mask = ::umask(022);
  ::umask(mask);
  nos::support::write_file_atomically(dir.path / "perm", "x");
  CHECK((fs::status(dir.path / "perm").permissions() & fs::perms::all) ==
        (static_cast<fs::perms>(0666 & ~mask) & fs::perms::all));
}

TEST_CASE("atomic file: a failed write throws naming the file, keeps the old content, leaves nothing new") {
  ScratchDir dir;
  fs::path out = dir.path / "final.json";
  nos::support::write_file_atomically(out, "kept\n");
  std::string big(1 << 16, 'x');
  {
    FileSizeLimit limit(4096);
    CHECK(error_of(out, big, "--json") == "--json: cannot write '" + out.string() + "': File too large");
    CHECK(error_of(dir.path / "new.json", big, "") == "cannot write '" + (dir.path / "new.json").string() + "': File too large");
  }
  CHECK(slurp(out) == "kept\n");
  CHECK(dir.names() == std::vector<std::string>{"final.json"});
}

TEST_CASE("atomic file: a path that cannot hold a file is refused, by check_writable too") {
  ScratchDir dir;
  nos::support::write_file_atomically(dir.path / "plain", "x");
  fs::path under_file = dir.path / "plain" / "out.json";  // its directory is a regular file
  CHECK(error_of(under_file, "x", "-o") == "-o: cannot write '" + under_file.string() + "': Not a directory");
  CHECK_THROWS_AS(nos::support::check_writable(under_file, "-o"), nos::support::FileError);
  CHECK(error_of(dir.path, "x", "") == "cannot write '" + dir.path.string() + "': Is a directory");
  CHECK_THROWS_AS(nos::support::check_writable(dir.path / "missing" / "x"), nos::support::FileError);
  nos::support::check_writable(dir.path / "fine.json");
  CHECK(dir.names() == std::vector<std::string>{"plain"});
}
