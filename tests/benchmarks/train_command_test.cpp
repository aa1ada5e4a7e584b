// nos-bench train --task FILE: the file's task is the benchmark's child, an option beside it replaces
// its key, a bad file is exit 1 naming the file and the key; a regression task's metric shown by its
// name (neg_mse), not as an accuracy. Never how fast: docs/benchmarks.md.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/runtime/numpy_files.h"
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

TEST_CASE("nos-bench train on a regression task names its metric, higher is better, and plots it as a number") {
  std::string dir = nos::testing::temp_dir("bench_train_regression");
  std::string npz = nos::testing::write_regression_npz(dir + "/reg.npz", 120);  // float y: regression
  nos::testing::ToolResult r = run_tool("nos-bench", {"train", "--data", npz, "--hidden", "8", "--epochs", "2", "--seeds",
                                                      "1", "--optimizers", "adam", "--threads", "1", "--out", dir + "/out"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.err.find("objective regression: metric neg_mse (higher is better)") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("adam epoch 2: val neg_mse -") != std::string::npos, r.err);
  CHECK_MESSAGE(r.out.find("val neg_mse (mean ± std)") != std::string::npos, r.out);
  CHECK_MESSAGE(r.out.find("val acc") == std::string::npos, r.out);
  CHECK_MESSAGE(r.out.find(" %") == std::string::npos, r.out);  // a negated loss is no percentage
  std::ifstream in(dir + "/out/train.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  CHECK(doc["config"]["objective"] == "regression");
  CHECK(doc["config"]["metric"] == "neg_mse");
  const nlohmann::json& adam = doc["optimizers"][0];
  CHECK(adam["val_acc_mean"].get<double>() < 0);  // -MSE
  // Each run is the evaluate API's result: its objective and metric named.
  CHECK(adam["runs"][0]["objective"] == "regression");
  CHECK(adam["runs"][0]["metric"]["label"] == "neg_mse");
  CHECK(adam["runs"][0]["metric"]["value"] == adam["val_acc_mean"]);
  std::ifstream script(dir + "/out/accuracy.gp");
  std::string gp((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
  CHECK_MESSAGE(gp.find("validation neg_mse (higher is better)") != std::string::npos, gp);

  // Classification keeps its percentages and its JSON without the objective.
  std::string blobs = nos::testing::write_blobs_csv(dir + "/blobs.csv", 120, 4, 3, true);
  r = run_tool("nos-bench", {"train", "--data", blobs, "--hidden", "8", "--epochs", "1", "--seeds", "1", "--optimizers",
                             "adam", "--threads", "1", "--out", dir + "/cls"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(r.out.find("val acc (mean ± std)") != std::string::npos, r.out);
  CHECK_MESSAGE(r.err.find("adam epoch 1: val acc ") != std::string::npos, r.err);
  std::ifstream cls(dir + "/cls/train.json");
  doc = nlohmann::json::parse(cls);
  CHECK_FALSE(doc["config"].contains("objective"));
  CHECK_FALSE(doc["optimizers"][0]["runs"][0].contains("objective"));

  // A task whose objective does not fit the data: exit 1 before training, the data named.
  std::ofstream(dir + "/lm.json") << R"({"data": "reg.npz", "objective": "lm"})";
  r = run_tool("nos-bench", {"train", "--task", dir + "/lm.json", "--seeds", "1", "--optimizers", "adam", "--out",
                             dir + "/lm"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.err.find(npz + ": objective lm needs token sequences") != std::string::npos, r.err);
}
