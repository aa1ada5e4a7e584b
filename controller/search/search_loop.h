// The search's controller side (the method's loop): the strategy proposes a batch, the intake
// turns it into stored candidates (compile, cache and fingerprint hits, screening), workers
// evaluate the queued ones, and once the whole batch is in, the strategy learns from its rewards
// and its state is saved with the batch's statistics. The funnel's second stage is queued for the
// best of each batch. Every step is in the database, so a stopped search resumes where it was:
// the saved state is restored, a batch stored after it is re-proposed (the same calls give the
// same proposals), checked against the stored one and waited for, never proposed twice. By default
// the next batch is proposed while the current one is evaluated (SearchConfig::overlap), so the
// workers never wait for the controller; learning stays in batch order, so results stay the same.
// Torch-free: the workers are other processes (or, in tests, threads) reached through the storage.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "controller/search/search_config.h"
#include "controller/search/storage.h"
#include "controller/search/tally.h"
#include "controller/strategy.h"

namespace nos::search {

// A search that cannot go on as configured (a stored batch the strategy does not reproduce, a
// resumed --async search): a clear message, exit 1.
class SearchError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Where the search stands: what the progress line shows.
struct SearchProgress {
  std::int64_t batch = 0, batches = 0;         // the batch in progress (0-based), of how many
  std::int64_t evaluated = 0, budget = 0;      // candidates with a stage-1 result, of the budget
  Tally results;                               // the stage-1 results learned from, by source and status
  std::int64_t queued = 0, running = 0;        // tasks now, every stage
  double batch_mean_reward = 0;                // the last finished batch's
  std::optional<double> best_reward;
  std::string best_rule;
  double elapsed = 0;                          // seconds, this run and the runs it resumes
  double per_minute = 0;                       // candidates evaluated per minute in this run
  std::optional<double> eta;                   // seconds until the budget, at that rate
};

struct LoopEvents {
  std::function<void(const SearchProgress&)> on_batch;  // after each batch is learned from
  std::function<void(const SearchProgress&)> on_wait;   // about twice a second while waiting
  std::function<void(const std::string&)> on_note;      // resumed work, a worker's death
  // Called while waiting: reaps and restarts workers, returns what happened (WorkerPool::poll).
  std::function<std::vector<std::string>()> poll_workers;
};

enum class LoopEnd { Budget, TimeBudget, Stopped };

// A stored batch's candidates as proposals again, as a strategy's observe needs them after a
// resume (the search loop's and every replica's open batches).
std::vector<controller::Proposal> stored_proposals(Storage& storage, SearchId search, std::int64_t batch);

class SearchLoop {
 public:
  SearchLoop(Storage& storage, SearchId search, const SearchConfig& config, controller::Strategy& strategy,
             LoopEvents events = {});
  // Runs until the budget (or the time budget) is spent and every task has ended, or `stop` is set.
  LoopEnd run(const std::atomic<bool>* stop = nullptr);
  const SearchProgress& progress() const { return progress_; }

 private:
  bool wait_until(const std::function<bool()>& done, const std::atomic<bool>* stop);
  void learn(std::int64_t batch, const std::vector<controller::Proposal>& proposals);
  void queue_second_stage(std::int64_t batch);
  // A per-seed funnel's stage 2 for one chosen candidate of `batch`: the next funnel.seeds seed
  // slots its rule has not trained on, and the paired baselines on each (FunnelConfig).
  void queue_seeds(const std::vector<Candidate>& batch, const Evaluation& chosen);
  void count(const Evaluation& e);
  void refresh_rates();
  bool out_of_time() const;

  Storage& storage_;
  SearchId search_;
  const SearchConfig& config_;
  controller::Strategy& strategy_;
  LoopEvents events_;
  SearchProgress progress_;
  double elapsed_before_ = 0;  // of the runs this one resumes
  std::int64_t evaluated_at_start_ = 0;
  double started_ = 0;         // steady clock seconds
};

}  // namespace nos::search
