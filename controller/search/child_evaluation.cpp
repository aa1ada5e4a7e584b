#include "controller/search/child_evaluation.h"

#include <chrono>
#include <cmath>

#include "runtime/json_text.h"
#include "runtime/preflight.h"

namespace nos::search {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

double metric_of(const runtime::RunResult& run, runtime::Metric metric) {
  switch (metric) {
    case runtime::Metric::ValAcc: return run.val_acc;
    case runtime::Metric::ValAccMeanLastK: return run.val_acc_mean_last_k;
    case runtime::Metric::ValAccMaxLastK: return run.val_acc_max_last_k;
  }
  return run.val_acc;
}

const runtime::RunResult* best_run(const runtime::EvaluateResult& r) {
  return r.runs.empty() ? nullptr : &r.runs[r.best];
}

json metrics_of(const runtime::EvaluateResult& r) {
  const runtime::RunResult* run = best_run(r);
  if (!run) return json::object();
  json m = {{"val_acc", number(run->val_acc)},
            {"val_acc_mean_last_k", number(run->val_acc_mean_last_k)},
            {"val_acc_max_last_k", number(run->val_acc_max_last_k)},
            {"epochs", run->history.size()},
            {"steps", run->steps}};
  if (!run->history.empty()) {
    m["val_loss"] = number(run->history.back().val_loss);
    m["train_loss"] = number(run->history.back().train_loss);
  }
  return m;
}

json curves_of(const ChildEvaluation& e, runtime::Metric metric) {
  json curves = json::object();
  json epochs = json::array();
  if (e.trained_final || !e.sweep)
    if (const runtime::RunResult* run = best_run(e.final))
      for (const runtime::EpochRecord& r : run->history)
        epochs.push_back({{"epoch", r.epoch},
                          {"train_loss", number(r.train_loss)},
                          {"val_loss", number(r.val_loss)},
                          {"val_acc", number(r.val_acc)},
                          {"seconds", r.seconds}});
  curves["epochs"] = epochs;
  if (e.sweep) {
    json sweep = json::array();
    for (const runtime::RunResult& run : e.sweep->runs)
      sweep.push_back({{"lr", run.lr}, {"status", name(storage_status(run.status))}, {"metric", number(metric_of(run, metric))},
                       {"message", run.message}});
    curves["sweep"] = sweep;
  }
  return curves;
}

json timings_of(const ChildEvaluation& e) {
  double compile = e.final.timings.compile, data = e.final.timings.data;
  if (e.sweep && e.trained_final) {
    compile += e.sweep->timings.compile;
    data += e.sweep->timings.data;
  }
  // The sweep's own steps and validation, apart from its whole wall time (`sweep`), so that a reader
  // can tell child training from the overhead around it (nos-bench search).
  return {{"compile", compile},
          {"data", data},
          {"sweep", e.sweep_seconds},
          {"sweep_training", e.sweep ? e.sweep->timings.training : 0.0},
          {"sweep_validation", e.sweep ? e.sweep->timings.validation : 0.0},
          {"training", e.trained_final || !e.sweep ? e.final.timings.training : 0.0},
          {"validation", e.trained_final || !e.sweep ? e.final.timings.validation : 0.0},
          {"total", e.total_seconds}};
}

}  // namespace

std::vector<std::string> preflight(const SearchConfig& config, runtime::Objective* objective) {
  runtime::EvaluateSpec spec = child_spec(config, 1, 0);
  spec.torch_optimizer = "adam";  // a candidate, as a spec needs one; the rules are checked as they come
  spec.lrs = config.lr.fixed ? std::vector<double>{*config.lr.fixed} : config.lr.grid;
  runtime::ChildPreflight checked = runtime::preflight_child(spec);
  if (objective) *objective = checked.objective;
  if (config.funnel.enabled()) runtime::split_dataset(checked.data, runtime::split_options(child_spec(config, 2, 0)));
  return checked.warnings;
}

Status storage_status(runtime::Status status) {
  switch (status) {
    case runtime::Status::Ok: return Status::Ok;
    case runtime::Status::Diverged: return Status::Diverged;
    case runtime::Status::TimeBudget: return Status::TimeBudget;
    case runtime::Status::CompileFailed: return Status::Invalid;
  }
  return Status::Invalid;
}

ChildEvaluation evaluate_child(const SearchConfig& config, runtime::EvaluateSpec spec, const runtime::Observer& observer,
                               const runtime::Prepared& prepared) {
  auto start = Clock::now();
  ChildEvaluation out;
  const double budget = spec.time_budget;
  const int epochs = spec.epochs;
  if (config.lr.fixed) {
    spec.lrs = {*config.lr.fixed};
    out.final = runtime::evaluate(spec, observer, prepared);
    out.trained_final = true;
    out.total_seconds = seconds_since(start);
    return out;
  }
  // The sweep: every rate of the grid for sweep_epochs, from the same start.
  const double sweep_epochs = static_cast<double>(config.lr.sweep_epochs) * static_cast<double>(config.lr.grid.size());
  runtime::EvaluateSpec sweep = spec;
  sweep.lrs = config.lr.grid;
  sweep.epochs = config.lr.sweep_epochs;
  if (budget > 0) sweep.time_budget = budget * sweep_epochs / (sweep_epochs + epochs);
  out.sweep = runtime::evaluate(sweep, observer, prepared);
  out.sweep_seconds = seconds_since(start);
  if (!runtime::usable(out.sweep->status)) {  // no rate trains: the sweep is the result
    out.final = *out.sweep;
    out.total_seconds = out.sweep_seconds;
    return out;
  }
  spec.lrs = {out.sweep->lr};
  if (budget > 0) spec.time_budget = std::max(budget - out.sweep_seconds, budget * epochs / (sweep_epochs + epochs) * 0.5);
  out.final = runtime::evaluate(spec, observer, prepared);
  out.trained_final = true;
  out.total_seconds = seconds_since(start);
  return out;
}

EvaluationResult to_evaluation(const SearchConfig& config, int stage, const ChildEvaluation& e) {
  EvaluationResult r;
  r.stage = stage;
  r.status = storage_status(e.final.status);
  r.source = Source::Trained;
  r.detail = e.final.message;
  r.lr = e.final.lr;
  if (!e.final.runs.empty() && std::isfinite(e.final.metric)) r.metric = e.final.metric;
  r.reward = reward_of(config, r.status, r.metric);
  r.metrics_json = json_text(metrics_of(e.final));
  r.curves_json = json_text(curves_of(e, config.child.metric));
  r.timings_json = json_text(timings_of(e));
  return r;
}

json to_artifact(const SearchConfig& config, const ChildEvaluation& e) {
  return {{"optimizer", e.final.optimizer},
          {"status", name(storage_status(e.final.status))},
          {"lr", e.final.lr},
          {"metric", e.final.runs.empty() ? json(nullptr) : number(e.final.metric)},
          {"metrics", metrics_of(e.final)},
          {"curves", curves_of(e, config.child.metric)},
          {"timings", timings_of(e)}};
}

}  // namespace nos::search
