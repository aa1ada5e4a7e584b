// The evaluate API's JSON, torch-free (this suite links nos_runtime_core, not LibTorch): the spec
// and the result round-trip, and a bad spec is refused naming the key.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "runtime/evaluate.h"

using namespace nos;
using namespace nos::runtime;

namespace {

EvaluateSpec full_spec() {
  EvaluateSpec s;
  s.rule = compiler::RuleSource::file("rules.dsl", "powersign");
  s.model = {"mlp", {64, 32}};
  s.data = "blobs.csv";
  s.train_subset = 500;
  s.val_fraction = 0.25;
  s.epochs = 2;
  s.batch_size = 16;
  s.seed = 18446744073709551615ull;  // every bit of a 64-bit seed survives
  s.threads = 2;
  s.device = "cuda:1";
  s.backend = "cpu";
  s.lrs = {1e-4, 1e-3, 0.1};
  s.time_budget = 12.5;
  s.metric = Metric::ValAccMeanLastK;
  s.last_k = 2;
  s.divergence_factor = 50;
  return s;
}

EvaluateResult full_result() {
  EvaluateResult r;
  r.status = Status::Diverged;
  r.message = "loss is nan at step 3";
  r.rule = compiler::compile_text("exp(sign(g) * sign(m)) * g");
  r.optimizer = r.rule->display();
  r.metric = 0.5;
  r.lr = 1e-3;
  for (double lr : {1e-4, 1e-3}) {
    RunResult run;
    run.lr = lr;
    run.status = lr == 1e-3 ? Status::Diverged : Status::TimeBudget;
    run.history = {{1, 2.5, 2.0, 0.5, 0.1, true}, {2, std::nan(""), std::nan(""), 0.25, 0.2, false}};
    run.batch_losses = {2.5, 2.0, std::nan("")};
    run.steps = 3;
    run.val_acc = 0.25;
    run.val_acc_mean_last_k = 0.375;
    run.val_acc_max_last_k = 0.5;
    run.last_k = 2;
    run.seconds = 0.4;
    run.compile_seconds = 0.01;
    run.train_seconds = 0.3;
    run.validation_seconds = 0.05;
    run.backend = "cpu";
    r.runs.push_back(run);
  }
  r.best = 1;
  r.data = {"blobs.csv", 400, 100, 3, {8}};
  r.timings = {0.02, 0.1, 0.6, 0.1, 0.9};
  return r;
}

}  // namespace

TEST_CASE("evaluate JSON: the spec round-trips, every field") {
  EvaluateSpec spec = full_spec();
  nlohmann::json j = to_json(spec);
  CHECK(j["rule"] == nlohmann::json({{"file", "rules.dsl"}, {"name", "powersign"}}));
  CHECK(j["metric"] == "val_acc_mean_last_k");
  CHECK(j["seed"].get<std::uint64_t>() == 18446744073709551615ull);
  EvaluateSpec back = spec_from_json(j);
  CHECK(to_json(back) == j);
  CHECK(back.rule == spec.rule);
  CHECK(back.seed == spec.seed);
  CHECK(back.lrs == spec.lrs);
  CHECK(back.metric == Metric::ValAccMeanLastK);

  EvaluateSpec torch;
  torch.torch_optimizer = "sgd";
  torch.momentum = 0.9;
  EvaluateSpec torch_back = spec_from_json(to_json(torch));
  CHECK_FALSE(torch_back.rule.has_value());
  CHECK(torch_back.torch_optimizer == "sgd");
  CHECK(torch_back.momentum == 0.9);
}

TEST_CASE("evaluate JSON: absent keys take the defaults") {
  EvaluateSpec s = spec_from_json(nlohmann::json::parse(R"({"rule": {"tokens": "g g id id add"}})"));
  REQUIRE(s.rule.has_value());
  CHECK(s.rule->kind == compiler::RuleSource::Kind::Tokens);
  EvaluateSpec defaults;
  defaults.rule = s.rule;
  CHECK(to_json(s) == to_json(defaults));
}

TEST_CASE("evaluate JSON: the result round-trips, statuses as strings, NaN as null") {
  EvaluateSpec spec = full_spec();
  EvaluateResult result = full_result();
  nlohmann::json j = to_json(result, spec);
  CHECK(j["status"] == "diverged");
  CHECK(j["sweep"][0]["status"] == "time_budget");
  CHECK(j["metric"] == nlohmann::json({{"name", "val_acc_mean_last_k"}, {"value", 0.5}}));
  CHECK(j["rule"]["hash"] == result.rule->hash_hex());
  CHECK(j["rule"]["canonical_text"] == result.rule->canonical_text);
  CHECK(j["history"][1]["train_loss"].is_null());
  CHECK(j["timings"]["training"] == 0.6);
  CHECK(j["spec"] == to_json(spec));
  EvaluateResult back = result_from_json(j);
  CHECK(back.status == Status::Diverged);
  CHECK(back.runs[0].status == Status::TimeBudget);
  CHECK(back.rule->hash == result.rule->hash);
  CHECK(std::isnan(back.runs[1].history[1].train_loss));
  CHECK(back.runs[1].batch_losses.size() == 3);
  CHECK(to_json(back, spec_from_json(j["spec"])) == j);
}

TEST_CASE("evaluate JSON: an objective other than classification names itself and its metric") {
  EvaluateSpec spec = full_spec();
  EvaluateResult result = full_result();
  nlohmann::json plain = to_json(result, spec);  // classification: the keys as before objectives
  CHECK_FALSE(plain.contains("objective"));
  CHECK_FALSE(plain["metric"].contains("label"));
  for (auto [objective, label] : {std::pair{Objective::Regression, "neg_mse"},
                                  std::pair{Objective::LanguageModel, "neg_bits_per_token"},
                                  std::pair{Objective::SequenceClassification, "accuracy"}}) {
    CAPTURE(label);
    result.objective = objective;
    nlohmann::json j = to_json(result, spec);
    CHECK(j["objective"] == name(objective));
    CHECK(j["metric"] == nlohmann::json({{"name", "val_acc_mean_last_k"}, {"label", label}, {"value", 0.5}}));
    EvaluateResult back = result_from_json(j);
    CHECK(back.objective == objective);
    CHECK(to_json(back, spec_from_json(j["spec"])) == j);
  }
  CHECK(result_from_json(plain).objective == Objective::Classification);  // absent: classification
  plain["objective"] = "auto";
  CHECK_THROWS_WITH_AS(result_from_json(plain), "result.objective: unknown objective 'auto'", std::invalid_argument);
}

TEST_CASE("evaluate JSON: statuses and metrics by name") {
  for (Status s : {Status::Ok, Status::Diverged, Status::TimeBudget, Status::CompileFailed}) CHECK(parse_status(name(s)) == s);
  CHECK(std::string(name(Status::CompileFailed)) == "compile_failed");
  CHECK_FALSE(parse_status("fine").has_value());
  for (Metric m : {Metric::ValAcc, Metric::ValAccMeanLastK, Metric::ValAccMaxLastK}) CHECK(parse_metric(name(m)) == m);
}

TEST_CASE("evaluate JSON: a bad spec is refused naming the key") {
  auto refused = [](const char* text) {
    try {
      spec_from_json(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused(R"({})") == "spec: give exactly one of \"rule\" and \"torch\"");
  CHECK(refused(R"({"rule": {"text": "g"}, "epochs": "two"})").find("spec.epochs: expected an integer") == 0);
  CHECK(refused(R"({"rule": {"text": "g"}, "seed": -1})").find("spec.seed: expected a non-negative integer") == 0);
  CHECK(refused(R"({"rule": {"text": "g"}, "threads": 100000})").find("threads 100000 is outside 0..1024") != std::string::npos);
  CHECK(refused(R"({"rule": {"text": "g"}, "lrs": [1e-50]})").find("rounds to 0 in float32") != std::string::npos);
  CHECK(refused(R"({"rule": {"text": "g"}, "metric": "loss"})").find("spec.metric: unknown metric 'loss'") == 0);
  CHECK(refused(R"({"rule": {"name": "x", "text": "g"}})").find("rule.name") == 0);
  CHECK(refused(R"({"torch": "lion"})").find("unknown torch optimizer 'lion'") != std::string::npos);
  CHECK(refused(R"({"rule": {"text": "g"}, "epochs": 99999999999})").find("spec.epochs: expected an integer from -2147483648 to 2147483647, not 99999999999") == 0);
}
