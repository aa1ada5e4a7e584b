// The search's protocol for judging one optimizer on the child network (the method's
// experiments): a short learning-rate sweep, then the full training at the best rate; and its
// outcome as the storage's EvaluationResult (status, reward, metrics, curves, timings as
// controller/search/README.md documents them). The workers evaluate candidates with it, `final`
// the top rules and the baselines, `run` its Adam baseline. Needs LibTorch (nos_search_child).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/search/search_config.h"
#include "controller/search/storage.h"
#include "runtime/evaluate.h"

namespace nos::search {

// One run of a halving sweep: its round (0-based) and the training examples it had.
struct SweepBudget {
  int round = 0;
  std::int64_t examples = 0;
};

struct ChildEvaluation {
  std::optional<runtime::EvaluateResult> sweep;  // absent for a fixed rate
  std::vector<SweepBudget> sweep_budgets;        // halving: one per sweep run; exhaustive: none
  runtime::EvaluateResult final;                 // the sweep's result when no rate could train
  bool trained_final = false;                    // the full training ran (a usable sweep, or a fixed rate)
  double sweep_seconds = 0;
  double total_seconds = 0;
};

// `spec` is child_spec(config, stage, index) with the candidate set (its rule or torch optimizer);
// its lrs are replaced by the sweep's grid, then by the chosen rate. The sweep is config.lr.sweep's:
// every rate at once (runtime::evaluate), or successive halving (each round an evaluate() over the
// surviving rates on the first examples of the training split). The child's time budget is shared
// by the sweep and the training in proportion to their epochs (the sweep's counted by sweep_cost). Throws what evaluate()
// throws for a spec that cannot run (std::invalid_argument).
ChildEvaluation evaluate_child(const SearchConfig& config, runtime::EvaluateSpec spec,
                               const runtime::Observer& observer = {}, const runtime::Prepared& prepared = {});

// The child every worker will train, checked once before anything is written: stage 1's spec with
// the sweep's rates (or the fixed rate) through runtime::preflight_child, so the data is loaded and
// split as the workers split it and the model built once; with the funnel, stage 2's split too.
// Throws std::invalid_argument with the message a worker would have given; returns the warnings
// about the data (runtime::split_warnings), for the caller to show. `objective`: where the
// child's objective, resolved on the data (runtime/objective.h), is written.
std::vector<std::string> preflight(const SearchConfig& config, runtime::Objective* objective = nullptr);

// How a child run ended, as the search stores it: the one map from runtime::Status (CompileFailed,
// the rule or its kernel could not be built, is Invalid).
Status storage_status(runtime::Status status);

// The stored form: status, lr, metric, reward (reward_of), metrics/curves/timings JSON. Source
// "trained".
EvaluationResult to_evaluation(const SearchConfig& config, int stage, const ChildEvaluation& evaluation);

// The artifact form of a baseline's evaluation: {optimizer, status, lr, metric, metrics, curves, timings}.
nlohmann::json to_artifact(const SearchConfig& config, const ChildEvaluation& evaluation);

}  // namespace nos::search
