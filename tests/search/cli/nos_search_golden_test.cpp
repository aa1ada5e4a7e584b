// The search's results do not move under refactoring: a seeded search of each strategy, with the
// synthetic child (no training: its metric is a deterministic function of the rule), gives the same
// `top --json` and the same PyTorch export as the files in tests/search/golden/, which were written
// by the build of commit 2008d59 — before the storage was split into a policy and drivers, the run
// options became one table and the executables moved to tools/. On PostgreSQL too, when
// NOS_TEST_POSTGRES_URL names a server.
//
// To write the files again (only when a change of results is intended, and said in the commit):
//   NOS_GOLDEN_WRITE=1 [NOS_GOLDEN_TOOL=path/to/nos-search] build/tests/test_search_golden
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"
#include <doctest/doctest.h>

using namespace nos::testing;
using nos::search::testing::TempDir;

namespace {

std::string tool() {
  const char* override_path = std::getenv("NOS_GOLDEN_TOOL");
  return override_path && *override_path ? override_path : binary_path("nos-search");
}

// nos-search in the directory `cwd` (a run on a URL writes its workers' log there), bounded.
ToolResult nos_search(const std::string& cwd, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"-c", "cd \"$0\" && exec /usr/bin/timeout 300 \"$@\"", cwd, tool()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program("/bin/sh", argv);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool writing() {
  const char* write = std::getenv("NOS_GOLDEN_WRITE");
  return write && *write;
}

// Compares `text` with the golden file `name`, or writes it there under NOS_GOLDEN_WRITE.
void check_golden(const std::string& name, const std::string& text) {
  std::string path = source_path("tests/search/golden/" + name);
  if (writing()) {
    std::ofstream(path, std::ios::binary) << text;
    MESSAGE("wrote " << path);
    return;
  }
  CHECK_MESSAGE(text == read_text(path), "differs from " << path);
}

// A seeded search of `strategy` in `db`, then its top 25 and the export of its best rule.
void check_strategy(const std::string& strategy, const std::string& db, const std::string& cwd) {
  CAPTURE(strategy);
  ToolResult run = nos_search(cwd, {"run", "--child", "synthetic:0", "--strategy", strategy, "--seed", "3", "--budget",
                                    "80", "--batch", "20", "--workers", "2", "--no-report", "--no-baseline", "--quiet",
                                    "--db", db});
  INFO("run: ", run.err);
  REQUIRE(run.exit_code == 0);
  ToolResult top = nos_search(cwd, {"top", db, "-k", "25", "--json"});
  REQUIRE(top.exit_code == 0);
  check_golden(strategy + ".top.json", top.out);
  ToolResult exported = nos_search(cwd, {"export", db, "--rank", "1", "--target", "pytorch", "-o", "-"});
  REQUIRE(exported.exit_code == 0);
  check_golden(strategy + ".rank1.py", exported.out);
}

const char* const kStrategies[] = {"random", "evolution", "lstm"};

}  // namespace

TEST_CASE("seeded searches give the golden results on SQLite") {
  for (const char* strategy : kStrategies) {
    TempDir dir;
    check_strategy(strategy, dir.file("search.db"), dir.path().string());
  }
}

#ifdef NOS_HAVE_POSTGRES
TEST_CASE("seeded searches give the golden results on PostgreSQL") {
  std::optional<std::string> server = nos::search::testing::postgres_test_url();
  if (!server || writing()) {
    MESSAGE(std::string(nos::search::testing::kNoPostgres));
    return;
  }
  for (const char* strategy : kStrategies) {
    TempDir dir;
    nos::search::testing::FreshPostgresDatabase db(*server);
    check_strategy(strategy, db.url(), dir.path().string());
  }
}
#endif
