// The one test every reader of an input file makes first: what a path is when it is not a
// regular file, named for the message, without opening it (a FIFO would block the open).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "dsl/input_file.h"

namespace fs = std::filesystem;

TEST_CASE("input file: a regular file or a missing path passes, anything else is named") {
  fs::path dir = fs::temp_directory_path() / ("nos-input-file-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "rules.nos") << "g\n";
  CHECK(nos::dsl::non_regular_kind(dir / "rules.nos") == "");
  CHECK(nos::dsl::non_regular_kind(dir / "missing.nos") == "");  // the open that follows says so
  CHECK(nos::dsl::non_regular_kind(dir) == "a directory");
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0644) == 0);
  CHECK(nos::dsl::non_regular_kind(dir / "pipe") == "a FIFO (named pipe)");  // at once: nothing opens it
  fs::create_symlink(dir / "pipe", dir / "link");
  CHECK(nos::dsl::non_regular_kind(dir / "link") == "a FIFO (named pipe)");  // what the link points to
  fs::create_symlink(dir / "rules.nos", dir / "rules-link");
  CHECK(nos::dsl::non_regular_kind(dir / "rules-link") == "");
  CHECK(nos::dsl::non_regular_kind("/dev/zero") == "a character device");
  fs::remove_all(dir);
}
