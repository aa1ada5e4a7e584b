// examples/run.sh, the README's first command, end to end on the build under test: with
// NOS_BUILD_DIR it skips the package setup and the build, passes its arguments to
// `nos-search run` (here a tiny blobs child, seconds instead of the demo's minutes), puts the
// search's files in NOS_RUN_DIR and ends with the best-rules table next to Adam.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "controller/search/storage.h"
#include "tests/runtime/test_data_files.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_program;
using nos::testing::source_path;
using nos::testing::ToolResult;

// Whether `program` is on PATH (the report needs gnuplot; without it run.sh still succeeds).
bool on_path(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

ToolResult run_script(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> all{source_path("examples/run.sh")};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("/bin/bash", all, "", env);
}

}  // namespace

TEST_CASE("examples/run.sh: an existing build runs the search and ends with the best rules next to Adam") {
  namespace fs = std::filesystem;
  const std::string dir = nos::testing::temp_dir("examples_run");
  const std::string data = nos::testing::write_blobs_csv(dir + "/blobs.csv", 1500, 8, 3, false);
  const std::string runs = dir + "/runs";
  ToolResult r = run_script({"--data", data, "--hidden", "16", "--epochs", "2", "--train-subset", "0", "--lr-grid",
                             "0.01,0.1", "--budget", "16", "--batch", "8", "--seed", "5"},
                            {"NOS_BUILD_DIR=" + std::string(NOS_BINARY_DIR), "NOS_RUN_DIR=" + runs});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  // Neither the package setup nor a build ran.
  CHECK(r.out.find("== setup") == std::string::npos);
  CHECK(r.out.find("== build") == std::string::npos);
  // The arguments reached nos-search run, with a database in the run directory.
  CHECK(r.out.find("== nos-search run --db " + runs + "/search-") != std::string::npos);
  CHECK(r.err.find("budget 16 candidates in batches of 8") != std::string::npos);

  // The best-rules table, ranked, each rule against Adam, then Adam's own line.
  std::size_t table = r.out.find("best rules of search 'search':");
  REQUIRE(table != std::string::npos);
  std::size_t header = r.out.find("rank", table);
  REQUIRE(header != std::string::npos);
  CHECK(r.out.find("vs adam", header) != std::string::npos);
  CHECK(r.out.find("\n   1 ", header) != std::string::npos);  // the first row, its rank right-aligned
  std::size_t adam = r.out.find("\nadam: metric ", header);
  REQUIRE(adam != std::string::npos);
  std::string adam_line = r.out.substr(adam + 1, r.out.find('\n', adam + 1) - adam - 1);
  double adam_metric = std::stod(adam_line.substr(std::string("adam: metric ").size()));  // a number, not "-"
  CHECK(adam_metric > 0.5);  // Adam learns the blobs
  CHECK(adam_line.ends_with("(the same child, its rate from the same sweep)"));

  // What the search wrote, where the summary says it is.
  std::vector<fs::path> dbs;
  for (const fs::directory_entry& e : fs::directory_iterator(runs))
    if (e.path().extension() == ".db") dbs.push_back(e.path());
  REQUIRE(dbs.size() == 1);
  const std::string db = dbs[0].string();
  CHECK(r.out.find("database: " + db + "\n") != std::string::npos);
  CHECK(fs::exists(db + ".workers.log"));
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  CHECK(storage->candidates(id).size() == 16);
  CHECK(storage->artifact(id, "baseline:adam").has_value());
  const std::string report = dbs[0].parent_path().string() + "/" + dbs[0].stem().string() + "-report";
  if (on_path("gnuplot")) {
    CHECK(r.out.find("report: " + report + "/index.html") != std::string::npos);
    CHECK(fs::exists(report + "/index.html"));
  } else {
    CHECK(r.out.find("no report: gnuplot is not installed") != std::string::npos);
  }
}

TEST_CASE("examples/run.sh: a --db given is used as it is, the exit status of nos-search comes through, a missing NOS_BUILD_DIR is refused") {
  const std::string dir = nos::testing::temp_dir("examples_run_db");
  const std::string data = nos::testing::write_blobs_csv(dir + "/blobs.csv", 600, 4, 2, false);
  const std::string db = dir + "/mine.db";
  ToolResult r = run_script({"--db", db, "--data", data, "--hidden", "8", "--epochs", "1", "--train-subset", "0", "--lr",
                             "0.1", "--budget", "4", "--batch", "4", "--workers", "1", "--no-baseline", "--no-report"},
                            {"NOS_BUILD_DIR=" + std::string(NOS_BINARY_DIR), "NOS_RUN_DIR=" + dir + "/unused"});
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::exists(db));
  CHECK_FALSE(std::filesystem::exists(dir + "/unused"));
  CHECK(r.out.find("best rules of search 'search':") != std::string::npos);
  CHECK(r.out.find("adam: metric") == std::string::npos);  // --no-baseline reached nos-search

  // nos-search's own exit status comes through (2: a usage mistake), before anything is written.
  ToolResult usage = run_script({"--budget", "0"}, {"NOS_BUILD_DIR=" + std::string(NOS_BINARY_DIR), "NOS_RUN_DIR=" + dir + "/usage"});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("--budget") != std::string::npos);
  CHECK(std::filesystem::is_empty(dir + "/usage"));

  ToolResult missing = run_script({}, {"NOS_BUILD_DIR=" + dir + "/no-such-build"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("NOS_BUILD_DIR=" + dir + "/no-such-build: no such directory") != std::string::npos);
}

}  // namespace nos::search
