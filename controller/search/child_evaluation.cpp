#include "controller/search/child_evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

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
    for (std::size_t i = 0; i < e.sweep->runs.size(); ++i) {
      const runtime::RunResult& run = e.sweep->runs[i];
      json entry = {{"lr", run.lr}, {"status", name(storage_status(run.status))}, {"metric", number(metric_of(run, metric))},
                    {"message", run.message}};
      // Halving's runs say which round and budget they had (the exhaustive sweep's entries as ever).
      if (i < e.sweep_budgets.size()) entry["round"] = e.sweep_budgets[i].round, entry["examples"] = e.sweep_budgets[i].examples;
      sweep.push_back(std::move(entry));
    }
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

// The first n training examples of `split` (already shuffled by the split's seed): a halving
// round's budget. The validation part stays whole: every round is judged on the same examples.
runtime::Split head(const runtime::Split& split, std::int64_t n) {
  runtime::Split out;
  out.val = split.val;
  const runtime::Dataset& t = split.train;
  out.train.source = t.source;
  out.train.shape = t.shape;
  out.train.num_classes = t.num_classes;
  out.train.vocabulary = t.vocabulary;
  out.train.labels.assign(t.labels.begin(), t.labels.begin() + n);
  out.train.features.assign(t.features.begin(), t.features.begin() + n * t.feature_count());
  return out;
}

// The rates of one round's result, best first: usable before not, then by the metric, ties to
// the rate earlier in the grid; as evaluate() picks its best, so the last round's first is its pick.
std::vector<std::size_t> ranking(const runtime::EvaluateResult& r, runtime::Metric metric) {
  std::vector<std::size_t> order(r.runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto rank = [&](std::size_t i) { return std::pair{runtime::usable(r.runs[i].status), metric_of(r.runs[i], metric)}; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank(a) > rank(b); });
  return order;
}

// Successive halving over the grid (lr_protocol.h's schedule): each round trains its rates for
// sweep_epochs on its fraction of the training examples, from the same start, and the better half
// goes on. The result holds every (rate, budget) run in order, `budgets` beside them; its best is
// the last round's best, or the first round that no rate survived.
runtime::EvaluateResult halving_sweep(const SearchConfig& config, const runtime::EvaluateSpec& spec, double time_budget,
                                      const runtime::Observer& observer, const runtime::Prepared& prepared,
                                      std::vector<SweepBudget>& budgets) {
  if (std::string problem = runtime::spec_problem(spec); !problem.empty()) throw std::invalid_argument(problem);
  auto start = Clock::now();
  runtime::Dataset loaded;
  runtime::Split made;
  const runtime::Split* split = prepared.split;
  if (!split) {
    if (!prepared.data) loaded = runtime::load_dataset(spec.data);
    made = runtime::split_dataset(prepared.data ? *prepared.data : loaded, runtime::split_options(spec));
    split = &made;
  }
  const double data_seconds = seconds_since(start);

  const std::vector<double>& grid = config.lr.grid;
  const double cost = sweep_cost(grid.size(), LrSweep::Halving);
  std::vector<std::size_t> alive(grid.size());
  for (std::size_t i = 0; i < alive.size(); ++i) alive[i] = i;
  runtime::EvaluateResult out;
  out.timings.data = data_seconds;
  std::optional<compiler::CompiledRule> compiled;
  const std::vector<HalvingStep> schedule = halving_schedule(grid.size());
  for (std::size_t k = 0; k < schedule.size(); ++k) {
    const HalvingStep& step = schedule[k];
    const std::int64_t n = split->train.size();
    const std::int64_t examples =
        std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(step.fraction * static_cast<double>(n))), 1, n);
    runtime::Split part = examples == n ? runtime::Split{} : head(*split, examples);
    runtime::EvaluateSpec round = spec;
    round.lrs.clear();
    for (std::size_t i : alive) round.lrs.push_back(grid[i]);
    round.epochs = config.lr.sweep_epochs;
    if (time_budget > 0) round.time_budget = time_budget * static_cast<double>(step.rates) * step.fraction / cost;
    runtime::Prepared p = prepared;
    p.split = examples == n ? split : &part;
    if (compiled) p.rule = &*compiled;
    runtime::EvaluateResult r = runtime::evaluate(round, observer, p);
    if (k == 0) {  // later rounds reuse the rule compiled here
      out.rule = compiled = r.rule;
      out.optimizer = r.optimizer;
    }
    out.data = r.data;
    out.timings.compile += r.timings.compile;
    out.timings.data += r.timings.data;
    out.timings.training += r.timings.training;
    out.timings.validation += r.timings.validation;
    const std::size_t offset = out.runs.size();
    for (runtime::RunResult& run : r.runs) {
      out.runs.push_back(std::move(run));
      budgets.push_back({static_cast<int>(k), examples});
    }
    out.status = r.status, out.message = r.message;
    if (r.runs.empty()) break;  // the rule did not compile: no rate can train
    std::vector<std::size_t> order = ranking(r, spec.metric);
    out.best = offset + order.front();
    const runtime::RunResult& best = out.runs[out.best];
    out.status = best.status, out.message = best.message, out.lr = best.lr, out.metric = metric_of(best, spec.metric);
    if (!runtime::usable(best.status) || best.status == runtime::Status::CompileFailed) break;
    std::vector<std::size_t> next;
    for (std::size_t i = 0; i < (order.size() + 1) / 2; ++i) next.push_back(alive[order[i]]);
    std::sort(next.begin(), next.end());
    alive = std::move(next);
  }
  out.timings.total = seconds_since(start);
  return out;
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
  // The sweep: every rate of the grid for sweep_epochs, from the same start (or successive halving
  // over it). Its cost in epochs: rate-trainings at the whole budget times sweep_epochs.
  const double sweep_epochs =
      static_cast<double>(config.lr.sweep_epochs) * sweep_cost(config.lr.grid.size(), config.lr.sweep);
  runtime::EvaluateSpec sweep = spec;
  sweep.lrs = config.lr.grid;
  sweep.epochs = config.lr.sweep_epochs;
  if (budget > 0) sweep.time_budget = budget * sweep_epochs / (sweep_epochs + epochs);
  if (config.lr.sweep == LrSweep::Halving)
    out.sweep = halving_sweep(config, sweep, sweep.time_budget, observer, prepared, out.sweep_budgets);
  else
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
