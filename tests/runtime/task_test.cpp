// The task (runtime/task.h): its JSON, both spellings of the model, its checks, and the evaluate
// spec's JSON as today's nos-train writes it still reading back to the same keys.
#include <doctest/doctest.h>

#include <stdexcept>

#include "runtime/evaluate.h"
#include "runtime/task.h"

namespace nos::runtime {
namespace {

using nlohmann::json;

std::string refusal(const json& j) {
  try {
    task_from_json(j, "task.json");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("task: a task file's JSON round-trips, the model as an object or as the search's name + hidden") {
  TaskSpec t;
  t.model = {"mlp", {64, 32}};
  t.data = "blobs.csv";
  t.train_subset = 500;
  t.val_fraction = 0.25;
  t.epochs = 7;
  t.batch_size = 64;
  t.metric = Metric::ValAccMeanLastK;
  t.last_k = 2;
  t.divergence_factor = 50;
  json j = to_json(t);
  CHECK(j["model"] == json{{"name", "mlp"}, {"hidden", {64, 32}}});
  TaskSpec back = task_from_json(j, "task.json");
  CHECK(to_json(back) == j);

  json flat = j;
  flatten_model(flat);
  CHECK(flat["model"] == "mlp");
  CHECK(flat["hidden"] == json{64, 32});
  CHECK(to_json(task_from_json(flat, "task.json")) == j);

  // Absent keys keep the defaults (those of the evaluate API: one epoch on every example).
  TaskSpec defaults = task_from_json(json::object(), "task.json");
  CHECK(to_json(defaults) == to_json(TaskSpec{}));
}

TEST_CASE("task: a bad task file names the file and the key") {
  CHECK(refusal({{"epoch", 3}}).starts_with("task.json: epoch: unknown key (known: data, model, hidden,"));
  CHECK(refusal({{"epochs", "3"}}) == "task.json: epochs: expected an integer, not \"3\"");
  CHECK(refusal({{"epochs", 0}}) == "task.json: epochs: must be 1 .. 100000, not 0");
  CHECK(refusal({{"metric", "loss"}}).starts_with("task.json: metric: unknown metric 'loss'"));
  CHECK(refusal({{"model", "resnet9"}}) == "task.json: model: unknown model 'resnet9': not a built-in (mlp, convnet, resnet, textrnn, textcnn) and no such TorchScript file");
  CHECK(refusal({{"model", {{"name", "mlp"}, {"width", 3}}}}).starts_with("task.json: model.width: unknown key"));
  CHECK(refusal({{"model", {{"name", "mlp"}}}, {"hidden", {8}}}).starts_with("task.json: hidden: give the hidden widths in"));
  CHECK(refusal({{"model", 3}}).starts_with("task.json: model: expected a name"));
  CHECK(refusal({{"hidden", {0}}}) == "task.json: hidden: hidden layer width 0 is outside 1..16777216");
  CHECK(refusal({{"divergence_factor", 1}}).starts_with("task.json: divergence_factor: must be a finite number above 1"));
  CHECK(refusal(json::array()) == "task.json: the configuration: expected a JSON object");
}

TEST_CASE("task: the evaluate spec embeds the task, and a spec written by main before the task existed reads back unchanged") {
  // nos-train --rule g --lr 0.1 --data blobs.csv --hidden 8 --epochs 2 --batch-size 16 --seed 7
  //   --train-subset 50 --metric val_acc_max_last_k --json out.json, at 2008d59: out.json's "spec".
  const json written = json::parse(
      R"({"backend": "auto", "batch_size": 16, "data": "blobs.csv", "device": "cpu", "divergence_factor": 1000.0,
          "epochs": 2, "last_k": 3, "lrs": [0.1], "metric": "val_acc_max_last_k", "model": {"hidden": [8], "name": "mlp"},
          "momentum": 0.0, "rule": {"text": "g"}, "seed": 7, "threads": 0, "time_budget": 0.0, "train_subset": 50,
          "val_fraction": 0.16666666666666666})");
  EvaluateSpec spec = spec_from_json(written);
  CHECK(spec.epochs == 2);
  CHECK(spec.task().model.hidden == std::vector<std::int64_t>{8});
  CHECK(spec.metric == Metric::ValAccMaxLastK);
  CHECK(spec.seed == 7);
  CHECK(to_json(spec) == written);

  // The task of a spec is the task's JSON: the same keys, the same values.
  const json task = to_json(spec.task());
  for (const auto& [key, value] : task.items()) CHECK(written.at(key) == value);
}

}  // namespace nos::runtime
