// A write that fails (a full disk) leaves no truncated or empty output file behind and keeps the
// file an earlier run wrote: every tool writes through support/atomic_file.h; nosc compile -o here.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_program;
using nos::testing::run_tool;
using nos::testing::temp_file;
using nos::testing::ToolResult;

namespace {

namespace fs = std::filesystem;

[[maybe_unused]] bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


[[maybe_unused]] std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The names in `dir`, for checking that a failed write left nothing (no temporary either).
[[maybe_unused]] std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

#ifdef NOS_HAVE_LLVM  // without a backend, nosc compile has nothing to write
TEST_CASE("tools: a write that fails leaves no file behind and keeps the one already there") {
  // RLIMIT_FSIZE makes every write into a file fail (EFBIG), as a full disk would, also for
  // root; SIGXFSZ is ignored so that the write returns the error instead of killing the tool. The
  // tool's messages go through a pipe, which the limit does not touch, with its exit status.
  fs::path dir = fs::path(temp_file("write-probe", "")).parent_path() / "failed-write";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string out = (dir / "x.ll").string();
  std::string script = "{ (ulimit -f 0; trap '' XFSZ; exec \"$0\" \"$@\") 2>&1; echo \"exit $?\"; } | cat";
  std::vector<std::string> args{"-c", script, nos::testing::binary_path("nosc"), "compile", "-e", "g", "-o", out};
  ToolResult r = run_program("/bin/sh", args);
  CHECK_MESSAGE(contains(r.out, "nosc: error: -o: cannot write '" + out + "': File too large\nexit 1\n"), r.out);
  CHECK(listing(dir).empty());  // neither x.ll nor a temporary

  std::ofstream(out) << "earlier output\n";
  r = run_program("/bin/sh", args);
  CHECK(contains(r.out, "exit 1\n"));
  CHECK(slurp(out) == "earlier output\n");
  CHECK(listing(dir) == std::vector<std::string>{"x.ll"});

  // Without the limit the same command replaces the file whole.
  r = run_tool("nosc", {"compile", "-e", "g", "-o", out});
  CHECK(r.exit_code == 0);
  CHECK(contains(slurp(out), "define"));
  CHECK(listing(dir) == std::vector<std::string>{"x.ll"});
  fs::remove_all(dir);
}
#endif

// The same failure, the same exit in every tool: an output file in a directory that does not exist
// is support::FileError, exit 1, "OPTION: cannot write 'PATH': REASON", found before any work.
TEST_CASE("tools: an output file that cannot be written exits 1 the same way in every tool") {
  std::string missing = (fs::path(temp_file("failed_write_same.txt", "")).parent_path() / "no-such-dir").string();
  struct Case {
    std::string tool;
    std::vector<std::string> args;
    std::string option, path;
  };
  std::vector<Case> cases{{"nosc", {"compile", "-e", "g", "--target", "pytorch", "-o", missing + "/k.py"}, "-o", missing + "/k.py"}};
#ifdef NOS_HAVE_NOS_TRAIN
  cases.push_back({"nos-train", {"-e", "g", "--lr", "0.1", "--data", "/nonexistent.csv", "--json", missing + "/r.json"},
                   "--json", missing + "/r.json"});
#endif
#ifdef NOS_HAVE_NOS_BENCH
  cases.push_back({"nos-bench", {"kernels", "--json", missing + "/k.json"}, "--json", missing + "/k.json"});
  cases.push_back({"nos-bench", {"compile", "--json", missing + "/c.json"}, "--json", missing + "/c.json"});
#endif
  for (const Case& c : cases) {
    CAPTURE(c.tool);
    CAPTURE(c.args);
    ToolResult r = nos::testing::run_tool_bounded(c.tool, c.args);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.err, c.tool + ": error: " + c.option + ": cannot write '" + c.path + "': No such file or directory"),
                  r.err);
  }
}
