// A search for the user's own network and data, end to end, the way docs/tasks.md tells a user to
// do it: examples/tasks/make_task.py saves a scripted PyTorch model and an .npz from Python
// (Debian's python3-torch, which cmake/setup-debian.sh installs), then nos-search run and final
// train it.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

using namespace nos::testing;
using nos::search::testing::TempDir;

TEST_CASE("a search and a final on a TorchScript model and NumPy data saved from PyTorch") {
  TempDir dir;
  ToolResult made = run_program("/usr/bin/python3", {source_path("examples/tasks/make_task.py"), dir.path().string()});
  INFO("make_task.py: ", made.err);  // without python3-torch: run cmake/setup-debian.sh
  REQUIRE(made.exit_code == 0);
  std::string model = dir.file("model.pt"), data = dir.file("data.npz"), db = dir.file("search.db");

  ToolResult run = run_tool_bounded("nos-search", {"run", "--model", model, "--data", data, "--train-subset", "1000",
                                                   "--epochs", "2", "--lr", "0.1", "--budget", "8", "--batch", "4",
                                                   "--workers", "1", "--db", db, "--no-report", "--quiet"},
                                    300);
  INFO("run: ", run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("best rules") != std::string::npos);
  CHECK(run.out.find("adam: metric") != std::string::npos);  // the baseline trained the same network

  ToolResult final_run = run_tool_bounded("nos-search", {"final", db, "--seeds", "2", "--top", "1", "--no-greedy",
                                                         "--baselines", "adam"},
                                          300);
  INFO("final: ", final_run.err);
  REQUIRE(final_run.exit_code == 0);
  CHECK(final_run.out.find(model) != std::string::npos);  // the task line names the user's model
  CHECK(final_run.out.find("adam") != std::string::npos);
}

TEST_CASE("a TorchScript model that does not fit the data stops run before anything is written") {
  TempDir dir;
  ToolResult made = run_program("/usr/bin/python3", {source_path("examples/tasks/make_task.py"), dir.path().string()});
  REQUIRE(made.exit_code == 0);
  // The example's network takes 2 features; a 4-feature CSV does not fit it.
  std::string csv = dir.file("four.csv");
  std::string rows;
  for (int i = 0; i < 40; ++i) rows += std::to_string(i % 3) + ",1,2,3," + std::to_string(i % 2) + "\n";
  ToolResult written = run_program("/bin/sh", {"-c", "cat > '" + csv + "'"}, rows);
  REQUIRE(written.exit_code == 0);
  std::string db = dir.file("search.db");
  ToolResult run = run_tool_bounded("nos-search", {"run", "--model", dir.file("model.pt"), "--data", csv, "--db", db,
                                                   "--budget", "4", "--workers", "1"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("model.pt") != std::string::npos);
  CHECK(run.err.find("forward() failed") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));
}
