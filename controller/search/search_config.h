// A search's whole configuration: the strategy, the budget, the child network every candidate
// trains (the evaluate API's spec), the learning-rate protocol, the screening probes, the funnel's
// second stage and the reward. Stored as JSON in the database when the search is created, so
// that workers (on this machine or others) and `--resume` run exactly the search that was started.
// Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/reward.h"
#include "controller/search/result_kinds.h"
#include "controller/strategy.h"
#include "controller/search/lr_protocol.h"
#include "controller/search/probes.h"
#include "controller/search/storage.h"
#include "runtime/evaluate.h"

namespace nos::search {

// A configuration that cannot run: the message names the key (`child.epochs: ...`) and, for a
// file, the file. The CLI exits 1.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The child a candidate is judged by: the task (runtime/task.h: model, data, split, epochs,
// batch size, metric), with the method's budget (5 epochs on 10,000 examples), and how this
// search's workers run it. The seed and threads are the search's (SearchConfig).
struct ChildConfig : runtime::TaskSpec {
  std::string backend = "auto";       // the rule's kernel backend
  std::string device = "cpu";
  bool cuda_graphs = false;           // RunSettings::cuda_graphs (stored only when true)
  double time_budget = 120;           // seconds per evaluation (sweep and training); 0: none
  // >= 0: a synthetic child for scale tests: it trains nothing, sleeps this many seconds and
  // returns a metric that is a deterministic function of the rule (synthetic_child.h).
  double synthetic = -1;

  ChildConfig() {
    train_subset = 10000;  // examples trained on (0: the whole training split)
    epochs = 5;            // as in the method
  }
  runtime::TaskSpec& task() { return *this; }
  const runtime::TaskSpec& task() const { return *this; }
};

// The funnel's second stage (as Lion's search does): the best of each batch are trained again on
// a larger budget; ranking uses the highest stage a rule reached. Off while top_fraction is 0 and
// there is no margin.
struct FunnelConfig {
  double top_fraction = 0;        // the top q of each batch (0.1: 10 %)
  std::optional<double> margin;   // also every candidate within this of the best reward so far
  std::int64_t train_subset = 0;  // 0: the whole training split
  int epochs = 10;
  // Re-evaluation over seeds: each chosen candidate trains on `seeds` seed slots, the same slots
  // for every candidate (stage_seed), and so do the paired `baselines` (torch optimizers: "adam",
  // "rmsprop", "sgd"), once per slot; a rule's standing is its mean over its slots (standing.h).
  // A repeat of a chosen rule (a hit) trains it on the next `seeds` slots.
  int seeds = 1;
  std::vector<std::string> baselines;
  bool enabled() const { return top_fraction > 0 || margin.has_value(); }
  // Seeds shared by every candidate of a stage (else each candidate keeps its own, as in stage 1).
  bool per_seed() const { return seeds > 1 || !baselines.empty(); }
};

inline constexpr int kMaxFunnelSeeds = 100;

// The most candidates a search may propose: far beyond any search's means (a year at 30,000 a
// second), and small enough that budgets rounded up to whole batches never overflow.
inline constexpr std::int64_t kMaxBudget = 1'000'000'000'000;

struct SearchConfig {
  std::string strategy = "lstm";
  // The strategy's own options (controller/strategy.h): batch, groups, algorithm, ... as text.
  std::map<std::string, std::string> strategy_options;
  std::int64_t budget = 400;   // candidates proposed in all (rounded up to whole batches)
  double time_budget = 0;      // seconds of search (summed over resumed runs); 0: none
  std::uint64_t seed = 0;
  int workers = -1;            // local worker processes; -1: one per core; 0: none (remote workers train)
  int threads_per_worker = 1;  // LibTorch threads of each worker (part of what the results depend on)
  // Propose the next batches while the current one is evaluated, so that workers never wait for
  // the controller; it still learns from each whole batch, in order, so the search stays
  // deterministic (its proposals lag its learning by `lookahead` batches; PPO's importance ratio
  // accounts for that). Two ahead, not one: a batch that needs little training (hits, screened
  // rules) would otherwise leave the workers idle until the controller has learned from the next.
  bool overlap = true;
  int lookahead = 2;
  bool async = false;          // learn from batches as they finish, in any order (not reproducible)
  ChildConfig child;
  LrConfig lr;
  FunnelConfig funnel;
  controller::RewardTransform reward = controller::RewardTransform::Identity;
  double failure_reward = 0;   // invalid, rejected, diverged, crashed
  // What the strategy learns from for a repeat (a cache or fingerprint hit, i.e. a result copied
  // from an earlier candidate); nullopt: the copied reward. The stored reward is always the copied
  // one. Learning the copied reward, a policy collapses onto the rules it has already trained: the
  // best known rule is what maximises its expected reward, and the workers run out of new work.
  std::optional<double> repeat_reward = 0.0;
  bool screen = true;          // reject what the probes' screening rejects (else only fingerprint)
  ProbeConfig probes;
  LeasePolicy lease;
};

// Keys are the field names (strategy_options as "strategy_options": {"batch": "20"}; numbers in
// strategy options may be given as numbers). Absent keys keep the defaults above. Throws
// ConfigError naming the key for an unknown key, a wrong type or a bad value; `where` (a file
// name, or "the stored configuration") starts the message.
SearchConfig config_from_json(const nlohmann::json& j, std::string_view where);
nlohmann::json to_json(const SearchConfig& config);

// Why `config` cannot run, naming the key; empty when it can. config_from_json checks it.
std::string config_problem(const SearchConfig& config);

// The seed of candidate `index`'s child: every child its own, derived from the search's seed only
// (so 1 worker or 4 give the same results), and the seed of the split every child shares.
std::uint64_t child_seed(std::uint64_t search_seed, std::int64_t index);
std::uint64_t split_seed(std::uint64_t search_seed);

// The seed of seed slot `slot` at funnel stage `stage` (2): the same for every candidate and
// baseline, so that their results pair (the same initial weights and data order; the split is
// split_seed's for every child).
std::uint64_t stage_seed(std::uint64_t search_seed, int stage, int slot);

// The final training run of candidate `index` at `stage` (1, or 2 for the funnel), without the
// candidate (rule or torch optimizer) and without its learning rate (the caller sets lrs): the
// child, its seeds, one thread per worker. Stage 2 of a per-seed funnel (FunnelConfig::per_seed)
// trains on stage_seed(slot), whatever the candidate; otherwise each candidate on its own seed.
runtime::EvaluateSpec child_spec(const SearchConfig& config, int stage, std::int64_t index, int slot = 0);

// The search's strategy, fresh (seeded with the search's seed); restore() its saved state to
// continue. Throws ConfigError for an unknown strategy or a bad option, its message starting with
// `where` (the configuration file, when there is one) and naming strategy_options.
// The lstm strategy exists only after controller::register_lstm_strategy().
std::unique_ptr<controller::Strategy> make_strategy(const SearchConfig& config, std::string_view where = "");

// The reward of an evaluation's metric, or the failure reward when it has none.
double reward_of(const SearchConfig& config, Status status, std::optional<double> metric);

}  // namespace nos::search
