// `nos-search final`'s retraining: the optimizers it compares (the search's best rules, the
// controller's greedy rule, LibTorch's baselines), each trained on one task over the same seeds
// with the search's own protocol (a learning-rate sweep, then the training: child_evaluation.h),
// and the mean and standard deviation of their metric. Needs LibTorch (nos_search_child).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "tools/nos_search/final_verdict.h"
#include "controller/search/search_config.h"
#include "runtime/data/dataset.h"

namespace nos::search::cli {

enum class FinalKind { Rule, Greedy, Baseline };
const char* name(FinalKind kind);  // "rule", "greedy", "baseline"

struct FinalOptimizer {
  std::string name;  // "rank 1", "greedy", "adam", "rmsprop", "sgd"
  FinalKind kind = FinalKind::Baseline;
  std::optional<compiler::CompiledRule> rule;  // Rule, Greedy
  std::string torch_optimizer;                 // Baseline: "adam" | "rmsprop" | "sgd"
  double momentum = 0;                         // Baseline sgd
  // What the search knew about it (a ranked rule's candidate, stage, reward, metric, lr; the
  // greedy rule's tokens): copied into the JSON as "search".
  nlohmann::json search = nlohmann::json::object();
};

// One task: the search's child (or the transfer task's), its learning-rate protocol, the seeds.
struct FinalTask {
  std::string name;  // "search" or "transfer"
  SearchConfig config;
  // The search task with other epochs or examples than the search trained (--search-epochs,
  // --search-train-subset; usually fewer, for a cheap first look): the searched values, else none.
  std::optional<int> searched_epochs;
  std::optional<std::int64_t> searched_train_subset;
  std::vector<std::uint64_t> seeds;  // one training per optimizer and seed: weights, data order, split
  int threads = 1;
  double time_budget = 0;  // seconds per optimizer and seed (sweep and training); 0: none
};

struct FinalResult {
  FinalOptimizer optimizer;
  std::vector<nlohmann::json> runs;             // per seed: to_artifact()'s object and "seed"
  std::vector<std::optional<double>> metrics;   // per seed; none when the run produced no metric
  std::vector<double> lrs;                      // per seed: the rate the sweep chose
  std::optional<double> mean, std;              // over the seeds with a metric (std: n - 1; 0 for one)
  int ok = 0;                                   // seeds whose status is ok
};

// Called after each training: the optimizer, the seed's position, its run (the "runs" entry).
using FinalProgress = std::function<void(const FinalOptimizer&, std::size_t seed_index, const nlohmann::json& run)>;

// Trains every optimizer at every seed of `task` on `data` (loaded once by the caller): seed by
// seed (one split in memory at a time), the optimizers in order within a seed. The results come
// in `optimizers`' order. Throws std::invalid_argument for a task that cannot run (a model that
// does not fit the data), prefixed with the task's name.
std::vector<FinalResult> retrain(const FinalTask& task, const std::vector<FinalOptimizer>& optimizers,
                                 const runtime::Dataset& data, const FinalProgress& progress = {});

// Highest mean first; results without any metric last; ties keep their order.
void rank_results(std::vector<FinalResult>& results);

// The task as the JSON's "task": {name, data, model, hidden, epochs, train_subset, val_fraction,
// batch_size, metric, lr: protocol_json() {grid, sweep_epochs, sweep, fixed, rounds, runs, cost,
// cost_exhaustive, description} (every optimizer's), threads, time_budget, seeds, searched}:
// searched is null, or the search's own {epochs, train_subset} when --search-epochs or
// --search-train-subset replaced them.
nlohmann::json task_json(const FinalTask& task);
// {optimizer, kind, rule, hash, momentum (sgd), search, metrics, mean, std, ok, lrs, lr_summary,
// lr_geometric_mean, runs}.
nlohmann::json result_json(const FinalResult& result);

// Which wins: the best found rule (rule or greedy, by mean) against the best baseline (by mean),
// paired by seed (final_verdict.h), e.g. "best found rule (rank 1) val_acc 0.8420 ± 0.0031 vs adam
// 0.8510 ± 0.0020: adam is better on this task (paired t-test over 5 seeds: ...)". `results` ranked.
Verdict verdict(const std::vector<FinalResult>& results, std::string_view metric);
// The verdict's JSON object (verdict_json) for `results`.
nlohmann::json verdict_json(const Verdict& verdict, const std::vector<FinalResult>& results);
// Every found rule (rule or greedy) against every baseline, paired by seed, in `results`' order.
std::vector<PairVerdict> comparisons(const std::vector<FinalResult>& results, std::string_view metric);

}  // namespace nos::search::cli
