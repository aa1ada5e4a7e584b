// JSON of the evaluate API's types: the one place that writes and reads EvaluateSpec,
// EvaluateResult, RunResult and EpochRecord. Non-finite numbers (a diverged loss) become null,
// since JSON has no NaN, and come back as NaN.
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "runtime/evaluate.h"
#include "runtime/report.h"

namespace nos::runtime {
namespace {

using nlohmann::json;

json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", where, what));
}

// Reads j[key] into `out` when present; a value of the wrong type names the key.
template <class T>
void read(const json& j, const char* key, T& out, const std::string& where) {
  auto found = j.find(key);
  if (found == j.end()) return;
  try {
    if constexpr (std::is_same_v<T, double>) {
      if (found->is_null()) {
        out = std::numeric_limits<double>::quiet_NaN();  // a non-finite number written as null
        return;
      }
      if (!found->is_number()) bad(where + "." + key, fmt::format("expected a number, got {}", found->type_name()));
    }
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!found->is_number_integer())
        bad(where + "." + key, fmt::format("expected an integer, got {}", found->dump()));
      if constexpr (std::is_unsigned_v<T>) {
        if (!found->is_number_unsigned()) bad(where + "." + key, fmt::format("expected a non-negative integer, got {}", found->dump()));
        if (found->get<std::uint64_t>() > std::numeric_limits<T>::max())
          bad(where + "." + key, fmt::format("{} is out of range", found->dump()));
      } else {
        if (found->is_number_unsigned() && found->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
          bad(where + "." + key, fmt::format("{} is out of range", found->dump()));
        if (!found->is_number_unsigned() && (found->get<std::int64_t>() < std::numeric_limits<T>::min() ||
                                             found->get<std::int64_t>() > std::numeric_limits<T>::max()))
          bad(where + "." + key, fmt::format("{} is out of range", found->dump()));
      }
    }
    out = found->get<T>();
  } catch (const json::exception& e) {
    bad(where + "." + key, e.what());
  }
}

json to_json(const compiler::RuleSource& source) {
  switch (source.kind) {
    case compiler::RuleSource::Kind::Text: return {{"text", source.value}};
    case compiler::RuleSource::Kind::Tokens: return {{"tokens", source.value}};
    case compiler::RuleSource::Kind::File: {
      json j = {{"file", source.value}};
      if (!source.name.empty()) j["name"] = source.name;
      return j;
    }
  }
  return nullptr;
}

compiler::RuleSource rule_source_from_json(const json& j) {
  if (!j.is_object()) bad("rule", "expected an object with \"text\", \"file\" or \"tokens\"");
  int given = j.contains("text") + j.contains("file") + j.contains("tokens");
  if (given != 1) bad("rule", "give exactly one of \"text\", \"file\" and \"tokens\"");
  std::string value, name;
  const char* key = j.contains("text") ? "text" : j.contains("file") ? "file" : "tokens";
  if (!j[key].is_string()) bad(std::string("rule.") + key, "expected a string");
  read(j, key, value, "rule");
  if (j.contains("name")) {
    if (!j.contains("file")) bad("rule.name", "names a rule of a file: give \"file\" too");
    if (!j["name"].is_string()) bad("rule.name", "expected a string");
    read(j, "name", name, "rule");
  }
  if (j.contains("file")) return compiler::RuleSource::file(value, name);
  return j.contains("text") ? compiler::RuleSource::text(value) : compiler::RuleSource::tokens(value);
}

json rule_identity(const compiler::CompiledRule& rule) {
  return {{"name", rule.name}, {"text", rule.text}, {"canonical_text", rule.canonical_text}, {"hash", rule.hash_hex()}};
}

compiler::CompiledRule rule_identity_from_json(const json& j) {
  if (!j.is_object()) bad("rule", "expected an object");
  compiler::CompiledRule rule;
  std::string hash;
  read(j, "name", rule.name, "rule");
  read(j, "text", rule.text, "rule");
  read(j, "canonical_text", rule.canonical_text, "rule");
  read(j, "hash", hash, "rule");
  std::size_t used = 0;
  try {
    rule.hash = std::stoull(hash, &used, 16);
  } catch (const std::exception&) {
    used = 0;
  }
  if (hash.size() != 16 || used != hash.size()) bad("rule.hash", fmt::format("expected 16 hex digits, got '{}'", hash));
  return rule;
}

Status status_from_json(const json& j, const std::string& where) {
  std::string text;
  read(j, "status", text, where);
  std::optional<Status> status = parse_status(text);
  if (!status) bad(where + ".status", fmt::format("unknown status '{}'", text));
  return *status;
}

}  // namespace

// ---- runs ---------------------------------------------------------------------------------------

std::vector<double> downsample(const std::vector<double>& values, std::size_t points, std::size_t* every) {
  std::size_t chunk = points == 0 ? 1 : std::max<std::size_t>(1, (values.size() + points - 1) / points);
  std::vector<double> out;
  for (std::size_t begin = 0; begin < values.size(); begin += chunk) {
    std::size_t end = std::min(values.size(), begin + chunk);
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += values[i];
    out.push_back(sum / static_cast<double>(end - begin));
  }
  if (every) *every = chunk;
  return out;
}

json to_json(const EpochRecord& epoch) {
  return {{"epoch", epoch.epoch},         {"train_loss", number(epoch.train_loss)},
          {"val_loss", number(epoch.val_loss)}, {"val_acc", number(epoch.val_acc)},
          {"seconds", epoch.seconds},     {"complete", epoch.complete}};
}

EpochRecord epoch_from_json(const json& j) {
  if (!j.is_object()) bad("history[]", "expected an object");
  EpochRecord e;
  read(j, "epoch", e.epoch, "history[]");
  read(j, "train_loss", e.train_loss, "history[]");
  read(j, "val_loss", e.val_loss, "history[]");
  read(j, "val_acc", e.val_acc, "history[]");
  read(j, "seconds", e.seconds, "history[]");
  read(j, "complete", e.complete, "history[]");
  return e;
}

json to_json(const RunResult& run) {
  json history = json::array();
  for (const EpochRecord& epoch : run.history) history.push_back(to_json(epoch));
  std::size_t every = 1;
  json curve = json::array();
  for (double v : downsample(run.batch_losses, kLossCurvePoints, &every)) curve.push_back(number(v));
  json j = {{"status", name(run.status)},
          {"message", run.message},
          {"lr", run.lr},
          {"val_acc", number(run.val_acc)},
          {"val_acc_mean_last_k", number(run.val_acc_mean_last_k)},
          {"val_acc_max_last_k", number(run.val_acc_max_last_k)},
          {"last_k", run.last_k},
          {"steps", run.steps},
          {"seconds", run.seconds},
          {"compile_seconds", run.compile_seconds},
          {"train_seconds", run.train_seconds},
          {"validation_seconds", run.validation_seconds},
          {"backend", run.backend},
          {"history", history},
          {"loss_curve", {{"every", every * run.loss_every}, {"values", curve}}}};
  if (!run.graph.empty()) j["graph"] = run.graph;
  return j;
}

RunResult run_from_json(const json& j) {
  if (!j.is_object()) bad("run", "expected an object");
  RunResult r;
  r.status = status_from_json(j, "run");
  read(j, "message", r.message, "run");
  read(j, "lr", r.lr, "run");
  read(j, "val_acc", r.val_acc, "run");
  read(j, "val_acc_mean_last_k", r.val_acc_mean_last_k, "run");
  read(j, "val_acc_max_last_k", r.val_acc_max_last_k, "run");
  read(j, "last_k", r.last_k, "run");
  read(j, "steps", r.steps, "run");
  read(j, "seconds", r.seconds, "run");
  read(j, "compile_seconds", r.compile_seconds, "run");
  read(j, "train_seconds", r.train_seconds, "run");
  read(j, "validation_seconds", r.validation_seconds, "run");
  read(j, "backend", r.backend, "run");
  read(j, "graph", r.graph, "run");
  if (j.contains("history")) {
    if (!j["history"].is_array()) bad("run.history", "expected an array");
    for (const json& e : j["history"]) r.history.push_back(epoch_from_json(e));
  }
  if (j.contains("loss_curve")) {
    const json& curve = j["loss_curve"];
    if (!curve.is_object() || !curve.contains("values") || !curve["values"].is_array())
      bad("run.loss_curve", "expected {\"every\": N, \"values\": [...]}");
    read(curve, "every", r.loss_every, "run.loss_curve");
    if (r.loss_every < 1) bad("run.loss_curve.every", "must be at least 1");
    for (const json& v : curve["values"]) {
      if (!v.is_null() && !v.is_number()) bad("run.loss_curve.values", "expected numbers");
      r.batch_losses.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
    }
  }
  return r;
}

json to_json(const OptimizerSpec& optimizer) {
  if (optimizer.rule) return {{"rule", rule_identity(*optimizer.rule)}};
  json j = {{"torch", optimizer.torch_optimizer}};
  if (optimizer.torch_optimizer == "sgd") j["momentum"] = optimizer.momentum;
  return j;
}

// ---- the spec -----------------------------------------------------------------------------------

json to_json(const EvaluateSpec& spec) {
  json j = to_json(spec.task());
  if (spec.rule) j["rule"] = to_json(*spec.rule);
  else j["torch"] = spec.torch_optimizer;
  j["momentum"] = spec.momentum;
  j["seed"] = spec.seed;
  if (spec.split_seed) j["split_seed"] = *spec.split_seed;
  j["threads"] = spec.threads;
  j["device"] = spec.device;
  j["backend"] = spec.backend;
  j["lrs"] = spec.lrs;
  j["time_budget"] = spec.time_budget;
  if (spec.check_every != 0) j["check_every"] = spec.check_every;
  if (spec.cuda_graphs) j["cuda_graphs"] = true;
  return j;
}

EvaluateSpec spec_from_json(const json& j) {
  if (!j.is_object()) bad("spec", "expected an object");
  EvaluateSpec s;
  if (j.contains("rule") == j.contains("torch")) bad("spec", "give exactly one of \"rule\" and \"torch\"");
  if (j.contains("rule")) s.rule = rule_source_from_json(j["rule"]);
  read(j, "torch", s.torch_optimizer, "spec");
  read(j, "momentum", s.momentum, "spec");
  read_task(j, "", "spec", s.task());
  read(j, "seed", s.seed, "spec");
  if (j.contains("split_seed")) {
    std::uint64_t split_seed = 0;
    read(j, "split_seed", split_seed, "spec");
    s.split_seed = split_seed;
  }
  read(j, "threads", s.threads, "spec");
  read(j, "device", s.device, "spec");
  read(j, "backend", s.backend, "spec");
  read(j, "lrs", s.lrs, "spec");
  read(j, "time_budget", s.time_budget, "spec");
  read(j, "check_every", s.check_every, "spec");
  read(j, "cuda_graphs", s.cuda_graphs, "spec");
  if (std::string problem = spec_problem(s); !problem.empty()) bad("spec", problem);
  return s;
}

// ---- the result ---------------------------------------------------------------------------------

json to_json(const EvaluateResult& result, const EvaluateSpec& spec) {
  json j = result.runs.empty() ? json{{"lr", result.lr}} : to_json(result.runs[result.best]);
  j["status"] = name(result.status);
  j["message"] = result.message;
  j["metric"] = {{"name", name(spec.metric)}, {"value", number(result.metric)}};
  // Classification's JSON stays as it was before objectives (the golden searches compare it byte
  // for byte); any other objective says which, and what its metric is.
  if (result.objective != Objective::Classification) {
    j["objective"] = name(result.objective);
    j["metric"]["label"] = metric_label(result.objective);
  }
  if (result.rule) j["rule"] = rule_identity(*result.rule);
  else if (!spec.rule) j["torch"] = spec.torch_optimizer;
  if (!spec.rule && spec.torch_optimizer == "sgd") j["momentum"] = spec.momentum;
  j["optimizer"] = result.optimizer;
  json runs = json::array();
  for (const RunResult& r : result.runs) runs.push_back(to_json(r));
  j["sweep"] = runs;
  j["best"] = result.best;
  j["data"] = {{"spec", spec.data},
               {"source", result.data.source},
               {"train_size", result.data.train_size},
               {"val_size", result.data.val_size},
               {"classes", result.data.classes},
               {"shape", result.data.shape}};
  j["timings"] = {{"compile", result.timings.compile},
                  {"data", result.timings.data},
                  {"training", result.timings.training},
                  {"validation", result.timings.validation},
                  {"total", result.timings.total}};
  j["wall_seconds"] = result.timings.total;
  j["spec"] = to_json(spec);
  return j;
}

EvaluateResult result_from_json(const json& j) {
  if (!j.is_object()) bad("result", "expected an object");
  EvaluateResult r;
  r.status = status_from_json(j, "result");
  read(j, "message", r.message, "result");
  if (j.contains("metric")) {
    if (!j["metric"].is_object()) bad("result.metric", "expected {\"name\": ..., \"value\": ...}");
    read(j["metric"], "value", r.metric, "result.metric");
  }
  if (j.contains("objective")) {
    std::string text;
    read(j, "objective", text, "result");
    std::optional<Objective> objective = parse_objective(text);
    if (!objective || *objective == Objective::Auto) bad("result.objective", fmt::format("unknown objective '{}'", text));
    r.objective = *objective;
  }
  if (j.contains("rule")) r.rule = rule_identity_from_json(j["rule"]);
  read(j, "optimizer", r.optimizer, "result");
  read(j, "lr", r.lr, "result");
  if (j.contains("sweep")) {
    if (!j["sweep"].is_array()) bad("result.sweep", "expected an array");
    for (const json& run : j["sweep"]) r.runs.push_back(run_from_json(run));
  }
  read(j, "best", r.best, "result");
  if (!r.runs.empty() && r.best >= r.runs.size()) bad("result.best", "is not an index into \"sweep\"");
  if (j.contains("data")) {
    const json& d = j["data"];
    read(d, "source", r.data.source, "result.data");
    read(d, "train_size", r.data.train_size, "result.data");
    read(d, "val_size", r.data.val_size, "result.data");
    read(d, "classes", r.data.classes, "result.data");
    read(d, "shape", r.data.shape, "result.data");
  }
  if (j.contains("timings")) {
    const json& t = j["timings"];
    read(t, "compile", r.timings.compile, "result.timings");
    read(t, "data", r.timings.data, "result.timings");
    read(t, "training", r.timings.training, "result.timings");
    read(t, "validation", r.timings.validation, "result.timings");
    read(t, "total", r.timings.total, "result.timings");
  }
  return r;
}

}  // namespace nos::runtime
