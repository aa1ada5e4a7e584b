// nos-bench train --task FILE: the file's task is the benchmark's child, an option beside it replaces
// its key, a bad file is exit 1 naming the file and the key. Never how fast: docs/benchmarks.md.
#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/runtime/test_data_files.h"
#include "tests/tools/run_tool.h"

using nos::testing::run_tool;

TEST_CASE("nos-bench train --task: the file's child, options beside it win, a bad file is exit 1") {
  std::string dir = nos::testing::temp_dir("bench_train_task");
  nos::testing::write_blobs_csv(dir + "/blobs.csv", 200, 5, 3, true);
  std::ofstream(dir + "/task.json") << R"({"model": {"name": "mlp", "hidden": [8]}, "data": "blobs.csv", "epochs": 3,
                                           "batch_size": 32})";
  nos::testing::ToolResult r = run_tool("nos-bench", {"train", "--task", dir + "/task.json", "--epochs", "1", "--seeds", "1",
                                                      "--optimizers", "adam", "--threads", "1", "--out", dir + "/out"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::ifstream in(dir + "/out/train.json");
  nlohmann::json child = nlohmann::json::parse(in)["config"]["child"];
  CHECK(child["data"] == dir + "/blobs.csv");
  CHECK(child["model"]["hidden"] == nlohmann::json::array({8}));
  CHECK(child["batch_size"] == 32);
  CHECK(child["epochs"] == 1);

  std::ofstream(dir + "/bad.json") << R"({"epochs": 1, "seeds": 3})";
  nos::testing::ToolResult bad = run_tool("nos-bench", {"train", "--task", dir + "/bad.json", "--out", dir + "/out"});
  CHECK(bad.exit_code == 1);
  CHECK_MESSAGE(bad.err.find(dir + "/bad.json: seeds: unknown key") != std::string::npos, bad.err);
}

TEST_CASE("nos-bench train --lr-grid: every optimizer swept over the same grid, named as in nos-search") {
  std::string dir = nos::testing::temp_dir("bench_train_grid");
  std::string data = nos::testing::write_blobs_csv(dir + "/blobs.csv", 200, 5, 3, true);
  nos::testing::ToolResult r =
      run_tool("nos-bench", {"train", "--data", data, "--hidden", "8", "--epochs", "1", "--seeds", "1", "--optimizers",
                             "adam,sgd-momentum", "--lr-grid", "0.001,0.1", "--threads", "1", "--out", dir + "/out"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::ifstream in(dir + "/out/train.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  CHECK(doc["config"]["lr_grid"] == nlohmann::json::array({0.001, 0.1}));
  CHECK(doc["config"]["lr_sweep"] == true);
  for (const nlohmann::json& o : doc["optimizers"]) {
    CHECK(o["lr_grid"] == nlohmann::json::array({0.001, 0.1}));  // not its default times 1/3, 1, 3
    CHECK(o["sweep"].size() == 2);
    CHECK((o["lr"] == 0.001 || o["lr"] == 0.1));
  }
  nos::testing::ToolResult bad = run_tool("nos-bench", {"train", "--data", data, "--lr-grid", "finer", "--out", dir + "/out"});
  CHECK(bad.exit_code == 2);
  CHECK_MESSAGE(bad.err.find("--lr-grid: 'finer' is not a number (nor a named grid: default, fine, half-decades)") !=
                    std::string::npos,
                bad.err);
}
