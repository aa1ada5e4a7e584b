#include "tools/nos_search/final_training.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "controller/search/child_evaluation.h"
#include "runtime/evaluate.h"
#include "support/json_number.h"

namespace nos::search::cli {
namespace {

using nlohmann::json;

void summarize(FinalResult& r) {
  std::vector<double> present;
  for (const auto& m : r.metrics)
    if (m) present.push_back(*m);
  if (present.empty()) return;
  double sum = 0;
  for (double x : present) sum += x;
  double mean = sum / static_cast<double>(present.size());
  double squares = 0;
  for (double x : present) squares += (x - mean) * (x - mean);
  r.mean = mean;
  r.std = present.size() > 1 ? std::sqrt(squares / static_cast<double>(present.size() - 1)) : 0.0;
}

}  // namespace

const char* name(FinalKind kind) {
  switch (kind) {
    case FinalKind::Rule: return "rule";
    case FinalKind::Greedy: return "greedy";
    case FinalKind::Baseline: return "baseline";
  }
  return "baseline";
}

std::vector<FinalResult> retrain(const FinalTask& task, const std::vector<FinalOptimizer>& optimizers,
                                 const runtime::Dataset& data, const FinalProgress& progress) {
  std::vector<FinalResult> results(optimizers.size());
  for (std::size_t i = 0; i < optimizers.size(); ++i) results[i].optimizer = optimizers[i];
  for (std::size_t s = 0; s < task.seeds.size(); ++s) {
    runtime::EvaluateSpec base = child_spec(task.config, 1, 0);
    base.seed = task.seeds[s];
    base.split_seed.reset();  // each seed its own split: the search chose its rules on one
    base.threads = task.threads;
    base.time_budget = task.time_budget;
    runtime::Split split;
    try {
      split = runtime::split_dataset(data, runtime::split_options(base));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("the {} task: {}", task.name, e.what()));
    }
    for (std::size_t i = 0; i < optimizers.size(); ++i) {
      const FinalOptimizer& o = optimizers[i];
      runtime::EvaluateSpec spec = base;
      runtime::Prepared prepared{.rule = nullptr, .data = &data, .split = &split};
      if (o.rule) {
        spec.rule = compiler::RuleSource::text(o.rule->canonical_text);
        prepared.rule = &*o.rule;
      } else {
        spec.torch_optimizer = o.torch_optimizer;
        spec.momentum = o.momentum;
      }
      ChildEvaluation evaluation;
      try {
        evaluation = evaluate_child(task.config, spec, {}, prepared);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("the {} task: {}", task.name, e.what()));
      }
      json run = to_artifact(task.config, evaluation);
      run["seed"] = task.seeds[s];
      FinalResult& r = results[i];
      std::optional<double> metric;
      // A non-finite metric is no result: it stays out of the mean and of every pair.
      if (run["metric"].is_number() && std::isfinite(run["metric"].get<double>())) metric = run["metric"].get<double>();
      r.metrics.push_back(metric);
      r.lrs.push_back(evaluation.final.lr);
      if (run["status"] == "ok") ++r.ok;
      if (progress) progress(o, s, run);
      r.runs.push_back(std::move(run));
    }
  }
  for (FinalResult& r : results) summarize(r);
  return results;
}

void rank_results(std::vector<FinalResult>& results) {
  std::stable_sort(results.begin(), results.end(), [](const FinalResult& a, const FinalResult& b) {
    if (a.mean.has_value() != b.mean.has_value()) return a.mean.has_value();
    return a.mean && *a.mean > *b.mean;
  });
}

json task_json(const FinalTask& task) {
  const SearchConfig& c = task.config;
  // Every optimizer's protocol (lr_protocol.h): grid, sweep, its runs and cost, the line printed.
  json lr = protocol_json(c.lr);
  json searched = nullptr;
  if (task.searched_epochs || task.searched_train_subset)
    searched = {{"epochs", task.searched_epochs.value_or(c.child.epochs)},
               {"train_subset", task.searched_train_subset.value_or(c.child.train_subset)}};
  return {{"name", task.name},
          {"data", c.child.data},
          {"model", c.child.model.name},
          {"hidden", c.child.model.hidden},
          {"epochs", c.child.epochs},
          {"train_subset", c.child.train_subset},
          {"val_fraction", c.child.val_fraction},
          {"batch_size", c.child.batch_size},
          {"metric", runtime::name(c.child.metric)},
          {"lr", lr},
          {"threads", task.threads},
          {"time_budget", task.time_budget},
          {"seeds", task.seeds},
          {"searched", searched}};
}

json result_json(const FinalResult& r) {
  const FinalOptimizer& o = r.optimizer;
  json metrics = json::array();
  for (const auto& m : r.metrics) metrics.push_back(support::number_or_null(m));
  json out = {{"optimizer", o.name},
              {"kind", name(o.kind)},
              {"rule", o.rule ? json(o.rule->canonical_text) : json(nullptr)},
              {"hash", o.rule ? json(o.rule->hash_hex()) : json(nullptr)},
              {"search", o.search},
              {"metrics", metrics},
              {"mean", support::number_or_null(r.mean)},
              {"std", support::number_or_null(r.std)},
              {"ok", r.ok},
              {"lrs", r.lrs},
              {"lr_summary", lr_summary(r.lrs)},
              {"lr_geometric_mean", r.lrs.empty() ? json(nullptr) : json(geometric_mean(r.lrs))},
              {"runs", r.runs}};
  if (o.torch_optimizer == "sgd") out["momentum"] = o.momentum;
  return out;
}

namespace {

// The best found rule and the best baseline of ranked results (either may be absent).
std::pair<const FinalResult*, const FinalResult*> contenders(const std::vector<FinalResult>& results) {
  const FinalResult *found = nullptr, *baseline = nullptr;
  for (const FinalResult& r : results) {
    const FinalResult*& slot = r.optimizer.kind == FinalKind::Baseline ? baseline : found;
    if (!slot) slot = &r;
  }
  return {found, baseline};
}

std::optional<Contender> contender(const FinalResult* r) {
  if (!r) return std::nullopt;
  return Contender{r->optimizer.name, r->mean, r->std, r->metrics};
}

}  // namespace

Verdict verdict(const std::vector<FinalResult>& results, std::string_view metric) {
  auto [found, baseline] = contenders(results);
  std::optional<Contender> a = contender(found), b = contender(baseline);
  return decide(a ? &*a : nullptr, b ? &*b : nullptr, metric);
}

json verdict_json(const Verdict& v, const std::vector<FinalResult>& results) {
  auto [found, baseline] = contenders(results);
  std::optional<Contender> a = contender(found), b = contender(baseline);
  return cli::verdict_json(v, a ? &*a : nullptr, b ? &*b : nullptr);
}

std::vector<PairVerdict> comparisons(const std::vector<FinalResult>& results, std::string_view metric) {
  std::vector<Contender> found, baselines;
  for (const FinalResult& r : results)
    (r.optimizer.kind == FinalKind::Baseline ? baselines : found).push_back(*contender(&r));
  return compare_all(found, baselines, metric);
}

}  // namespace nos::search::cli
