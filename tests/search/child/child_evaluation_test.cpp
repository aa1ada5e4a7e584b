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

}  // namespace nos::search
