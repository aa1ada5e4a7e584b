// The search's child protocol on a tiny child (blobs, 16 hidden units): the sweep picks a rate and
// the training runs at it; a rule that cannot train ends as a status with the failure reward; the
// stored JSON has the documented keys.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controller/search/child_evaluation.h"
#include "tests/runtime/test_data_files.h"

namespace nos::search {
namespace {

using nlohmann::json;

SearchConfig tiny() {
  SearchConfig c;
  c.child.data = testing::write_blobs_csv(testing::temp_dir("child_evaluation") + "/blobs.csv", 300, 8, 3, false);
  c.child.model.hidden = {16};
  c.child.train_subset = 0;
  c.child.val_fraction = 0.2;
  c.child.epochs = 3;
  c.child.batch_size = 32;
  c.lr.grid = {1e-5, 0.05};
  c.failure_reward = -1;
  return c;
}

runtime::EvaluateSpec with_rule(const SearchConfig& c, const std::string& rule, std::int64_t index = 0) {
  runtime::EvaluateSpec spec = child_spec(c, 1, index);
  spec.rule = compiler::RuleSource::text(rule);
  return spec;
}

}  // namespace

TEST_CASE("child evaluation: the sweep picks the rate, the training runs at it, the JSON is as documented") {
  SearchConfig c = tiny();
  ChildEvaluation e = evaluate_child(c, with_rule(c, "sign(g)"));
  REQUIRE(e.sweep);
  CHECK(e.sweep->runs.size() == 2);
  CHECK(e.sweep->runs[0].history.size() == 1);  // sweep_epochs
  CHECK(e.trained_final);
  CHECK(e.final.lr == 0.05);
  REQUIRE(e.final.runs.size() == 1);
  CHECK(e.final.runs[0].history.size() == 3);
  CHECK(e.total_seconds >= e.sweep_seconds);

  EvaluationResult r = to_evaluation(c, 1, e);
  CHECK(r.status == search::Status::Ok);
  CHECK(r.source == search::Source::Trained);
  CHECK(r.lr == 0.05);
  REQUIRE(r.metric);
  CHECK(*r.metric > 0.8);
  CHECK(r.reward == r.metric);
  json metrics = json::parse(r.metrics_json), curves = json::parse(r.curves_json), timings = json::parse(r.timings_json);
  CHECK(metrics["epochs"] == 3);
  CHECK(metrics["val_acc"].get<double>() == doctest::Approx(*r.metric));
  CHECK(curves["epochs"].size() == 3);
  CHECK(curves["epochs"][2]["val_acc"].get<double>() == doctest::Approx(*r.metric));
  CHECK(curves["sweep"].size() == 2);
  CHECK(curves["sweep"][1]["lr"] == 0.05);
  for (const char* key : {"compile", "data", "sweep", "sweep_training", "sweep_validation", "training", "validation", "total"})
    CHECK(timings.contains(key));
  CHECK(timings["training"].get<double>() > 0);
  // The sweep's steps and validation are part of its wall time; with the final run's they are the
  // child training of the evaluation, inside its total.
  CHECK(timings["sweep_training"].get<double>() > 0);
  CHECK(timings["sweep_validation"].get<double>() > 0);
  CHECK(timings["sweep_training"].get<double>() + timings["sweep_validation"].get<double>() <=
        timings["sweep"].get<double>());
  CHECK(timings["sweep"].get<double>() + timings["training"].get<double>() + timings["validation"].get<double>() <=
        timings["total"].get<double>());

  // The same candidate index gives the same result; another index another child.
  EvaluationResult again = to_evaluation(c, 1, evaluate_child(c, with_rule(c, "sign(g)")));
  CHECK(again.metric == r.metric);
  auto first_loss = [](const EvaluationResult& e) { return json::parse(e.curves_json)["epochs"][0]["train_loss"]; };
  CHECK(first_loss(again) == first_loss(r));
  EvaluationResult other = to_evaluation(c, 1, evaluate_child(c, with_rule(c, "sign(g)", 1)));
  CHECK(first_loss(other) != first_loss(r));
}

TEST_CASE("child evaluation: a rule that diverges at every rate gets the failure reward, a fixed rate skips the sweep") {
  SearchConfig c = tiny();
  ChildEvaluation bad = evaluate_child(c, with_rule(c, "g * 1e30"));
  CHECK_FALSE(bad.trained_final);
  EvaluationResult r = to_evaluation(c, 1, bad);
  CHECK(r.status == search::Status::Diverged);
  CHECK(r.reward == -1);
  CHECK(json::parse(r.curves_json)["sweep"].size() == 2);
  // It trained only in the sweep: that is its child training.
  json bad_timings = json::parse(r.timings_json);
  CHECK(bad_timings["training"] == 0.0);
  CHECK(bad_timings["sweep_training"].get<double>() > 0);

  c.lr.fixed = 0.05;
  ChildEvaluation fixed = evaluate_child(c, with_rule(c, "sign(g)"));
  CHECK_FALSE(fixed.sweep);
  CHECK(fixed.final.lr == 0.05);
  CHECK_FALSE(json::parse(to_evaluation(c, 1, fixed).curves_json).contains("sweep"));

  // A baseline: LibTorch's Adam through the same protocol, in the artifact form.
  runtime::EvaluateSpec adam = child_spec(c, 1, 0);
  adam.torch_optimizer = "adam";
  json artifact = to_artifact(c, evaluate_child(c, adam));
  CHECK(artifact["status"] == "ok");
  CHECK(artifact["lr"] == 0.05);
  CHECK(artifact["curves"]["epochs"].size() == 3);
}

TEST_CASE("child evaluation: successive halving picks the exhaustive sweep's rate at less cost, deterministically") {
  // Eight rates of which one trains (0.05): the rest (1e-9 .. 1e-3) barely move sign(g)'s weights
  // in a few steps, at every budget, so the best rate is determined and halving must keep it. None
  // diverges: a diverged run stops at once, which makes the exhaustive sweep cheap too.
  SearchConfig c = tiny();
  c.lr.grid = {1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.05};
  ChildEvaluation exhaustive = evaluate_child(c, with_rule(c, "sign(g)"));
  c.lr.sweep = LrSweep::Halving;
  ChildEvaluation halving = evaluate_child(c, with_rule(c, "sign(g)"));
  REQUIRE(exhaustive.sweep);
  REQUIRE(halving.sweep);
  CHECK(exhaustive.sweep->lr == 0.05);
  CHECK(halving.sweep->lr == exhaustive.sweep->lr);
  CHECK(halving.final.lr == exhaustive.final.lr);
  CHECK(halving.final.metric == exhaustive.final.metric);  // the same training at the same rate

  // 8 rates on a quarter of the 240 training examples, 4 on half, 2 on all: 14 (rate, budget) runs.
  REQUIRE(halving.sweep->runs.size() == 14);
  REQUIRE(halving.sweep_budgets.size() == 14);
  std::vector<std::int64_t> examples;
  for (const SweepBudget& b : halving.sweep_budgets) examples.push_back(b.examples);
  CHECK(examples == std::vector<std::int64_t>{60, 60, 60, 60, 60, 60, 60, 60, 120, 120, 120, 120, 240, 240});
  CHECK(halving.sweep_budgets.front().round == 0);
  CHECK(halving.sweep_budgets.back().round == 2);
  CHECK(exhaustive.sweep_budgets.empty());
  // The last round's two rates trained exactly as the exhaustive sweep trained them.
  for (std::size_t i = 12; i < 14; ++i) {
    const runtime::RunResult& run = halving.sweep->runs[i];
    for (const runtime::RunResult& same : exhaustive.sweep->runs)
      if (same.lr == run.lr) CHECK(same.val_acc == run.val_acc);
  }
  // The cost, counted in training steps: 8 x 2 + 4 x 4 + 2 x 8 = 48 against 8 x 8 = 64.
  auto steps = [](const runtime::EvaluateResult& r) {
    std::int64_t n = 0;
    for (const runtime::RunResult& run : r.runs) n += run.steps;
    return n;
  };
  CHECK(steps(*exhaustive.sweep) == 64);
  CHECK(steps(*halving.sweep) == 48);

  // Stored: every run with its round and budget; the same evaluation again gives the same result.
  json curves = json::parse(to_evaluation(c, 1, halving).curves_json);
  REQUIRE(curves["sweep"].size() == 14);
  CHECK(curves["sweep"][0]["examples"] == 60);
  CHECK(curves["sweep"][13]["round"] == 2);
  CHECK_FALSE(json::parse(to_evaluation(c, 1, exhaustive).curves_json)["sweep"][0].contains("round"));
  ChildEvaluation again = evaluate_child(c, with_rule(c, "sign(g)"));
  CHECK(again.final.metric == halving.final.metric);
  for (std::size_t i = 0; i < 14; ++i) CHECK(again.sweep->runs[i].lr == halving.sweep->runs[i].lr);

  // A baseline through the same protocol; a rule that diverges everywhere stops after round 0.
  runtime::EvaluateSpec adam = child_spec(c, 1, 0);
  adam.torch_optimizer = "adam";
  ChildEvaluation adam_halving = evaluate_child(c, adam);
  CHECK(adam_halving.sweep->runs.size() == 14);
  CHECK(runtime::usable(adam_halving.final.status));
  ChildEvaluation bad = evaluate_child(c, with_rule(c, "g * 1e30"));
  CHECK_FALSE(bad.trained_final);
  CHECK(bad.sweep->runs.size() == 8);
  CHECK(to_evaluation(c, 1, bad).status == search::Status::Diverged);
}

}  // namespace nos::search
