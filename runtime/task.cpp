// The task's metric names, its check and its JSON: the one place for each.
#include "runtime/task.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/json_section.h"

namespace nos::runtime {
namespace {

constexpr std::pair<Metric, const char*> kMetricNames[] = {
    {Metric::ValAcc, "val_acc"}, {Metric::ValAccMeanLastK, "val_acc_mean_last_k"}, {Metric::ValAccMaxLastK, "val_acc_max_last_k"}};

constexpr std::pair<Objective, const char*> kObjectiveNames[] = {
    {Objective::Auto, "auto"},
    {Objective::Classification, "classification"},
    {Objective::SequenceClassification, "sequence_classification"},
    {Objective::Regression, "regression"},
    {Objective::LanguageModel, "lm"}};

}  // namespace

const char* name(Objective objective) {
  for (auto [o, text] : kObjectiveNames)
    if (o == objective) return text;
  return "?";
}

std::optional<Objective> parse_objective(std::string_view text) {
  for (auto [o, name] : kObjectiveNames)
    if (text == name) return o;
  return std::nullopt;
}

bool metric_is_accuracy(Objective objective) {
  return objective != Objective::Regression && objective != Objective::LanguageModel;
}

const char* metric_label(Objective objective) {
  if (objective == Objective::Regression) return "neg_mse";
  if (objective == Objective::LanguageModel) return "neg_bits_per_token";
  return "accuracy";
}

const char* name(Metric metric) {
  for (auto [m, text] : kMetricNames)
    if (m == metric) return text;
  return "?";
}

std::optional<Metric> parse_metric(std::string_view text) {
  for (auto [m, name] : kMetricNames)
    if (text == name) return m;
  return std::nullopt;
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"mlp", "convnet", "resnet", "textrnn", "textcnn"};
  return names;
}

bool is_builtin_model(std::string_view name) {
  for (const std::string& builtin : model_names())
    if (name == builtin) return true;
  return false;
}

std::string task_problem(const TaskSpec& t) {
  if (std::error_code ec; !is_builtin_model(t.model.name) && !std::filesystem::exists(t.model.name, ec))
    return fmt::format("model: unknown model '{}': not a built-in ({}) and no such TorchScript file", t.model.name,
                       fmt::join(model_names(), ", "));
  for (std::int64_t width : t.model.hidden)
    if (width < 1 || width > kMaxHiddenWidth)
      return fmt::format("hidden: hidden layer width {} is outside 1..{}", width, kMaxHiddenWidth);
  if (t.data.empty()) return "data: no data given";
  if (t.train_subset < 0) return fmt::format("train_subset: must be >= 0 (0: the whole training split), not {}", t.train_subset);
  if (!(t.val_fraction > 0 && t.val_fraction < 1))
    return fmt::format("val_fraction: must be strictly between 0 and 1, not {}", t.val_fraction);
  if (t.epochs < 1 || t.epochs > 100000) return fmt::format("epochs: must be 1 .. 100000, not {}", t.epochs);
  if (t.batch_size < 1 || t.batch_size > (1 << 20)) return fmt::format("batch_size: must be 1 .. {}, not {}", 1 << 20, t.batch_size);
  if (t.last_k < 1 || t.last_k > 100000) return fmt::format("last_k: must be 1 .. 100000, not {}", t.last_k);
  if (!(t.divergence_factor > 1) || !std::isfinite(t.divergence_factor))
    return fmt::format("divergence_factor: must be a finite number above 1 (a loss this many times the first one diverges), not {}",
                       t.divergence_factor);
  return {};
}

nlohmann::json to_json(const TaskSpec& t) {
  nlohmann::json j = {{"model", {{"name", t.model.name}, {"hidden", t.model.hidden}}},
          {"data", t.data},
          {"train_subset", t.train_subset},
          {"val_fraction", t.val_fraction},
          {"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"metric", name(t.metric)},
          {"last_k", t.last_k},
          {"divergence_factor", t.divergence_factor}};
  // Absent means Auto: the configurations stored before objectives existed read as they did.
  if (t.objective != Objective::Auto) j["objective"] = name(t.objective);
  return j;
}

void flatten_model(nlohmann::json& j) {
  nlohmann::json model = j.at("model");
  j["model"] = model.at("name");
  j["hidden"] = model.at("hidden");
}

void read_task(const nlohmann::json& j, std::string_view where, const std::string& path, TaskSpec& t) {
  JsonSection s(j, where, path);
  if (s.has("model") && s.at("model").is_object()) {
    if (s.has("hidden")) s.fail(s.key("hidden"), "give the hidden widths in \"model\": {\"name\": ..., \"hidden\": [...]}");
    JsonSection m = s.section("model");
    m.check_known({"name", "hidden"});
    m.read("name", t.model.name);
    m.read("hidden", t.model.hidden);
  } else {
    if (s.has("model") && !s.at("model").is_string())
      s.fail(s.key("model"), "expected a name (\"mlp\") or an object {\"name\": ..., \"hidden\": [...]}");
    s.read("model", t.model.name);
    s.read("hidden", t.model.hidden);
  }
  s.read("data", t.data);
  if (s.has("objective")) {
    std::string objective;
    s.read("objective", objective);
    std::optional<Objective> parsed = parse_objective(objective);
    if (!parsed)
      s.fail(s.key("objective"),
             fmt::format("unknown objective '{}' (auto, classification, sequence_classification, regression, lm)", objective));
    t.objective = *parsed;
  }
  s.read("train_subset", t.train_subset);
  s.read("val_fraction", t.val_fraction);
  s.read("epochs", t.epochs);
  s.read("batch_size", t.batch_size);
  if (s.has("metric")) {
    std::string metric;
    s.read("metric", metric);
    std::optional<Metric> parsed = parse_metric(metric);
    if (!parsed) s.fail(s.key("metric"), fmt::format("unknown metric '{}' (val_acc, val_acc_mean_last_k, val_acc_max_last_k)", metric));
    t.metric = *parsed;
  }
  s.read("last_k", t.last_k);
  s.read("divergence_factor", t.divergence_factor);
}

TaskSpec task_from_json(const nlohmann::json& j, std::string_view where) {
  JsonSection s(j, where, "");
  s.check_known(kTaskKeys);
  TaskSpec t;
  read_task(j, where, "", t);
  if (std::string problem = task_problem(t); !problem.empty()) {
    if (where.empty()) throw std::invalid_argument(problem);
    throw std::invalid_argument(fmt::format("{}: {}", where, problem));
  }
  return t;
}

}  // namespace nos::runtime
