// The objectives (runtime/objective.h): the regression and lm metrics against hand computations,
// the objective inferred from the data, bad combinations refused, and regression and lm training
// end to end through nos-train and a short nos-search run + top.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "../tools/run_tool.h"
#include "numpy_files.h"
#include "runtime/child_model.h"
#include "runtime/data/dataset.h"
#include "runtime/objective.h"
#include "test_data_files.h"
// Last: LibTorch's c10 logging defines CHECK(condition) (a fatal log, not an assertion); included
// after it, doctest's own CHECK wins. The other way round every CHECK here was c10's: doctest
// counted only the 11 REQUIREs and CHECK_THROWS of the 6 cases, and a failing CHECK aborted.
#include <doctest/doctest.h>

using namespace nos::testing;
using namespace nos::runtime;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("objectives: the regression metric is minus the mean squared error, by hand") {
  // Two rows of two targets: errors (1, -1) and (2, 0): squared 1, 1, 4, 0; MSE 6 / 4 = 1.5.
  at::Tensor output = torch::tensor({{1.f, 2.f}, {3.f, 4.f}}), y = torch::tensor({{0.f, 3.f}, {1.f, 4.f}});
  ChunkScore s = objective_score(Objective::Regression, output, output, y);
  CHECK(s.metric_sum / 2 == doctest::Approx(-1.5));
  CHECK(s.loss_sum / 2 == doctest::Approx(1.5));
  CHECK(objective_loss(Objective::Regression, output, output, y).item<double>() == doctest::Approx(1.5));
}

TEST_CASE("objectives: the lm metric is minus the bits per token of the next token") {
  // One sequence 0 1 0: positions 0 and 1 predict 1 and 0. Scores give p = 1/2 for the right token
  // at the first position (log 2 nats: 1 bit) and p = 1/4 at the second (uniform over 4: 2 bits).
  at::Tensor x = torch::tensor({{0.f, 1.f, 0.f}});
  at::Tensor output = torch::zeros({1, 2, 4});
  output[0][0] = torch::tensor({0.f, std::log(3.f), 0.f, 0.f});
  ChunkScore s = objective_score(Objective::LanguageModel, output, x, torch::zeros({1}, torch::kLong));
  CHECK(s.metric_sum == doctest::Approx(-(1.0 + 2.0) / 2));  // mean of 1 bit and 2 bits
  CHECK(s.loss_sum == doctest::Approx(1.5 * std::log(2.0)));
}

TEST_CASE("objectives: inferred from the data, and bad combinations refused") {
  std::string dir = temp_dir("objectives_infer");
  Dataset reg = load_dataset(write_regression_npz(dir + "/reg.npz", 50));
  CHECK(reg.target_width == 1);
  CHECK(!reg.has_labels());
  CHECK(resolve_objective(Objective::Auto, reg, "mlp") == Objective::Regression);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::Classification, reg, "mlp"),
                       doctest::Contains("objective classification needs class labels y"), std::invalid_argument);
  Dataset lm = load_dataset(write_lm_npz(dir + "/lm.npz", 20, 8));
  CHECK(resolve_objective(Objective::Auto, lm, "textrnn") == Objective::LanguageModel);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::LanguageModel, lm, "textcnn"), doctest::Contains("use textrnn"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::LanguageModel, reg, "mlp"),
                       doctest::Contains("objective lm needs token sequences"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::Regression, lm, "textrnn"),
                       doctest::Contains("objective regression needs targets y"), std::invalid_argument);
  Dataset blobs = load_dataset(write_blobs_npz(dir + "/blobs.npz", 30, 3, 3));
  CHECK(resolve_objective(Objective::Auto, blobs, "mlp") == Objective::Classification);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::Regression, blobs, "mlp"), doctest::Contains("y.astype(np.float32)"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(resolve_objective(Objective::SequenceClassification, blobs, "mlp"),
                       doctest::Contains("needs token sequences"), std::invalid_argument);
}

TEST_CASE("nos-train: regression trains, the loss falls and the metric is -MSE of the validation loss") {
  std::string dir = temp_dir("objectives_regression");
  std::string npz = write_regression_npz(dir + "/reg.npz", 400);
  ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--data", npz, "--lr", "0.01", "--epochs", "4",
                                        "--json", dir + "/out.json"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "metric: neg_mse (higher is better)"));
  CHECK(contains(r.out, "val neg_mse"));
  nlohmann::json j = read_json(dir + "/out.json");
  const nlohmann::json& history = j["history"];
  CHECK(history.back()["train_loss"].get<double>() < history.front()["train_loss"].get<double>() / 2);
  for (const nlohmann::json& epoch : history)  // the metric is minus the validation MSE
    CHECK(epoch["val_acc"].get<double>() == doctest::Approx(-epoch["val_loss"].get<double>()));
  r = run_tool("nos-train", {"--optimizer", "adam", "--data", npz, "--lr", "0.01", "--objective", "classification"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, npz + ": objective classification needs class labels y"));
}

TEST_CASE("nos-train: lm trains textrnn on a tiny token set, textcnn and numbers are refused") {
  std::string dir = temp_dir("objectives_lm");
  std::string npz = write_lm_npz(dir + "/lm.npz", 300, 12);
  ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", "textrnn", "--data", npz, "--lr", "0.01",
                                        "--epochs", "4", "--train-subset", "0", "--json", dir + "/out.json"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "vocabulary 7, lm"));
  nlohmann::json history = read_json(dir + "/out.json")["history"];
  CHECK(history.back()["val_loss"].get<double>() < history.front()["val_loss"].get<double>());
  // Uniform over 7 tokens is log2(7) = 2.81 bits; half the tokens predictable: about 1.4 at best.
  CHECK(history.back()["val_acc"].get<double>() > -2.6);
  CHECK(history.back()["val_acc"].get<double>() == doctest::Approx(-history.back()["val_loss"].get<double>() / std::log(2.0)));
  r = run_tool("nos-train", {"--optimizer", "adam", "--model", "textcnn", "--data", npz, "--lr", "0.01"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "use textrnn"));
  r = run_tool("nos-train", {"--optimizer", "adam", "--data", write_regression_npz(dir + "/reg.npz", 50), "--lr",
                             "0.01", "--objective", "lm"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "objective lm needs token sequences"));
}

TEST_CASE("nos-search: a regression search stores its objective and top names the metric") {
  std::string dir = temp_dir("objectives_search");
  std::string npz = write_regression_npz(dir + "/reg.npz", 200);
  std::string db = dir + "/s.db";
  ToolResult r = run_tool_bounded("nos-search", {"run", "--data", npz, "--train-subset", "0", "--epochs", "1",
                                                 "--budget", "4", "--workers", "1", "--db", db, "--quiet"},
                                  240);
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  r = run_tool("nos-search", {"top", db});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "metric: neg_mse"));
  CHECK(contains(r.out, "higher is better"));
  r = run_tool("nos-search", {"top", db, "--json"});
  nlohmann::json top = nlohmann::json::parse(r.out);
  REQUIRE(!top.empty());
  CHECK(top[0]["metric_name"] == "neg_mse");
  if (top[0]["status"] == "ok")  // the reward of a negated loss: 1 / (1 - metric), in (0, 1]
    CHECK(top[0]["reward"].get<double>() == doctest::Approx(1 / (1 - top[0]["metric"].get<double>())));
}
