#include "controller/search/replica_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/search/intake.h"
#include "dsl/tokens.h"
#include "runtime/json_text.h"

namespace nos::search {
namespace {

using nlohmann::json;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::uint64_t replica_seed(std::uint64_t search_seed, int index) {
  return index == 0 ? search_seed : search_seed ^ (0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(index));
}

ReplicaLoop::ReplicaLoop(Storage& storage, SearchId search, const SearchConfig& config, controller::Strategy& strategy,
                         ReplicaOptions options, LoopEvents events)
    : storage_(storage), search_(search), config_(config), strategy_(strategy), options_(std::move(options)),
      events_(std::move(events)) {
  if (config_.async) throw SearchError("replicas: an --async search has no replicas (each replica is asynchronous already)");
  if (config_.funnel.enabled()) throw SearchError("replicas: the funnel's second stage is not supported with replicas");
  if (options_.replicas < 1 || options_.index < 0 || (options_.synchronous && options_.index >= options_.replicas))
    throw SearchError(fmt::format("replicas: replica index {} outside 0 .. {}", options_.index, options_.replicas - 1));
  if (options_.name.empty()) throw SearchError("replicas: a replica needs a name");
  const std::int64_t batch = strategy_.batch_size();
  progress_.batches = (config_.budget + batch - 1) / batch;
  progress_.budget = progress_.batches * batch;
}

bool ReplicaLoop::wait_until(const std::function<bool()>& done, const std::atomic<bool>* stop) {
  double last_report = 0;
  while (!done()) {
    if (stop && stop->load()) return false;
    if (events_.poll_workers)
      for (const std::string& line : events_.poll_workers())
        if (events_.on_note) events_.on_note(line);
    if (events_.on_wait && now_seconds() - last_report >= 0.5) {
      TaskCounts counts = storage_.counts(search_);
      progress_.queued = counts.queued, progress_.running = counts.running;
      events_.on_wait(progress_);
      last_report = now_seconds();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Takes a claimed batch's proposals in and stores them. The batches in flight are every other
// replica's (and this one's) batches whose update is not in: as the single search's open batches.
void ReplicaLoop::fill(std::int64_t batch, const std::vector<controller::Proposal>& proposals) {
  std::vector<std::int64_t> flying;
  if (options_.synchronous) {  // the round's earlier batches, learned from or not: the same every time
    for (std::int64_t b = batch - batch % options_.replicas; b < batch; ++b) flying.push_back(b);
  } else {
    for (const ReplicaBatch& b : storage_.replica_batches(search_))
      if (b.state == "open" && b.batch != batch) flying.push_back(b.batch);
  }
  Intake intake = take_in(proposals, config_, storage_, search_, InFlight::of(storage_, search_, flying));
  storage_.enqueue_batch(search_, batch, intake.candidates);
}

bool ReplicaLoop::propose_next(const std::atomic<bool>* stop, std::vector<Open>& open) {
  const std::int64_t n = options_.replicas;
  std::optional<std::int64_t> wanted;
  std::int64_t sampled = 0;
  std::string bytes;
  if (options_.synchronous) {
    wanted = claimed_ * n + options_.index;  // round claimed_, place index
    if (*wanted >= progress_.batches) {
      exhausted_ = true;
      return true;
    }
    // Sampled with the version that ends the previous round; it is kept while this round runs.
    sampled = claimed_ * n;
    if (!wait_until([&] { return storage_.latest_parameters(search_)->version >= sampled; }, stop)) return false;
    std::optional<ParameterVersion> at = storage_.parameters_at(search_, sampled);
    if (!at) throw std::logic_error(fmt::format("replicas: version {} is no longer kept", sampled));
    bytes = std::move(at->bytes);
  } else {
    // Every batch of the budget claimed: no proposal (it would move this copy's random stream).
    if (static_cast<std::int64_t>(storage_.replica_batches(search_).size()) >= progress_.batches) {
      exhausted_ = true;
      return true;
    }
    ParameterVersion latest = *storage_.latest_parameters(search_);
    sampled = latest.version;
    bytes = std::move(latest.bytes);
  }
  strategy_.restore_shared(bytes);
  std::vector<controller::Proposal> proposals = strategy_.propose(strategy_.batch_size());
  std::optional<std::int64_t> batch =
      storage_.claim_replica_batch(search_, options_.name, wanted, progress_.batches, sampled, strategy_.save());
  if (!batch) {  // the budget's batches are all claimed (or, synchronous, this one by a namesake)
    exhausted_ = true;
    return true;
  }
  ++claimed_;
  // Synchronous: batches are stored in number order, so candidate indices do not depend on timing.
  if (options_.synchronous && *batch > 0 &&
      !wait_until([&] { return !storage_.candidates(search_, *batch - 1).empty(); }, stop))
    return false;
  fill(*batch, proposals);
  open.push_back({*batch, std::move(proposals), sampled});
  return true;
}

// A batch is learned from once its tasks and every earlier batch's have ended (its deferred copies
// may copy a candidate of any batch that was in flight when it was taken in).
bool ReplicaLoop::learnable(std::int64_t batch) {
  while (finished_below_ < batch && storage_.counts(search_, finished_below_).pending() == 0) ++finished_below_;
  return finished_below_ >= batch && storage_.counts(search_, batch).pending() == 0;
}

bool ReplicaLoop::learn(const Open& open, const std::atomic<bool>* stop) {
  const std::int64_t batch = open.batch;
  progress_.batch = batch;
  // A copy of a candidate in a later-numbered batch stored earlier: its result comes with that batch.
  while (true) {
    try {
      resolve_copies(storage_, search_, batch);
      break;
    } catch (const std::logic_error&) {
      if (!wait_until([&] { return storage_.counts(search_).pending() == 0; }, stop)) return false;
    }
  }
  std::vector<Candidate> candidates = storage_.candidates(search_, batch);
  std::vector<Evaluation> results;
  for (Evaluation& e : storage_.evaluations_of_batch(search_, batch))
    if (e.accepted && e.stage == 1) results.push_back(std::move(e));
  if (results.size() != candidates.size() || candidates.size() != open.proposals.size())
    throw std::logic_error(fmt::format("replica batch {}: {} proposals, {} candidates, {} results", batch,
                                       open.proposals.size(), candidates.size(), results.size()));
  std::vector<controller::Outcome> outcomes;
  double sum = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Evaluation& e = results[i];
    double reward = e.reward.value_or(config_.failure_reward);
    double learned = is_hit(e.source) && config_.repeat_reward ? *config_.repeat_reward : reward;
    outcomes.push_back({open.proposals[i], learned});
    sum += reward;
    ++progress_.evaluated;
    progress_.results.add(e);
    if (e.reward && (!progress_.best_reward || *e.reward > *progress_.best_reward)) {
      progress_.best_reward = *e.reward;
      progress_.best_rule = candidates[i].rule;
    }
  }
  progress_.batch_mean_reward = results.empty() ? 0 : sum / static_cast<double>(results.size());

  // Compute the update against the newest version and apply it there, or again against the one
  // that came first (synchronous: against version `batch`, the previous replica's in this round).
  const int keep = std::max(2, options_.replicas + 1);
  std::int64_t base = 0;
  std::optional<std::int64_t> version;
  bool refused = false;
  while (!version) {
    if (options_.synchronous &&
        !wait_until([&] { return storage_.latest_parameters(search_)->version >= batch; }, stop))
      return false;
    ParameterVersion latest = *storage_.latest_parameters(search_);
    base = latest.version;
    if (!options_.synchronous && options_.max_staleness >= 0 && base - open.sampled_version > options_.max_staleness) {
      storage_.refuse_update(search_, batch, base);
      refused = true;
      break;
    }
    strategy_.restore_shared(latest.bytes);
    strategy_.observe(outcomes);
    version = storage_.push_update(search_, batch, base, strategy_.save_shared(), keep);
  }
  refused ? ++refused_ : ++applied_;

  json strategy_statistics = json::object();
  for (const controller::Statistic& s : strategy_.statistics())
    strategy_statistics[s.name] = std::isfinite(s.value) ? json(s.value) : json(nullptr);
  // What status reads of every batch record: the candidates learned from so far (every replica's
  // ended batches, each whole) and the seconds since the first batch was claimed.
  std::vector<ReplicaBatch> all = storage_.replica_batches(search_);
  std::int64_t ended = 0;
  double elapsed = 0;
  for (const ReplicaBatch& b : all) {
    ended += b.state != "open";
    if (b.ended_at) elapsed = std::max(elapsed, *b.ended_at - all.front().claimed_at);
  }
  json statistics = {{"batch", batch},
                     {"evaluated", ended * strategy_.batch_size()},
                     {"elapsed", elapsed},
                     {"replica", options_.name},
                     {"sampled_version", open.sampled_version},
                     {"base_version", base},
                     {"staleness", base - open.sampled_version},
                     {"update", refused ? "refused" : "applied"},
                     {"rewards", {{"mean", progress_.batch_mean_reward}}},
                     {"strategy", strategy_statistics}};
  if (version) statistics["version"] = *version;
  // The batch's record (status and report read it); the state lives in the parameter server.
  storage_.save_strategy_state(search_, batch, "", json_text(statistics));
  storage_.checkpoint();
  if (events_.on_batch) events_.on_batch(progress_);
  return true;
}

LoopEnd ReplicaLoop::run(const std::atomic<bool>* stop) {
  const double started = now_seconds();
  // Whichever replica comes first stores the initial parameters (version 0): those of the search's
  // seed, as the single controller's, whatever this replica's own seed.
  if (!storage_.latest_parameters(search_)) storage_.init_parameters(search_, make_strategy(config_)->save_shared());

  // A restarted replica: its own state after its last claimed batch, its open batches to finish.
  std::vector<Open> open;
  std::vector<ReplicaBatch> mine = storage_.replica_batches(search_, options_.name);
  if (!mine.empty()) {
    strategy_.restore(storage_.replica_local_state(search_, options_.name));
    claimed_ = static_cast<std::int64_t>(mine.size());
    for (const ReplicaBatch& b : mine) {
      if (b.state != "open") continue;
      if (storage_.candidates(search_, b.batch).empty()) {
        // Claimed, then stopped before it was stored: proposed again from the newest parameters.
        strategy_.restore_shared(storage_.latest_parameters(search_)->bytes);
        std::vector<controller::Proposal> proposals = strategy_.propose(strategy_.batch_size());
        fill(b.batch, proposals);
        open.push_back({b.batch, std::move(proposals), b.sampled_version});
      } else {
        open.push_back({b.batch, stored_proposals(storage_, search_, b.batch), b.sampled_version});
      }
    }
    if (events_.on_note)
      events_.on_note(fmt::format("replica {} resumes: {} batch(es) claimed before, {} still open", options_.name,
                                  mine.size(), open.size()));
  }

  const std::size_t lag = options_.synchronous || !config_.overlap ? 0 : static_cast<std::size_t>(config_.lookahead);
  LoopEnd end = LoopEnd::Budget;
  while (true) {
    if (stop && stop->load()) return LoopEnd::Stopped;
    if (!exhausted_ && config_.time_budget > 0 && now_seconds() - started >= config_.time_budget) {
      exhausted_ = true;
      end = LoopEnd::TimeBudget;
    }
    if (!exhausted_ && open.size() <= lag) {
      if (!propose_next(stop, open)) return LoopEnd::Stopped;
      continue;
    }
    if (open.empty()) break;
    if (!wait_until([&] { return learnable(open.front().batch); }, stop)) return LoopEnd::Stopped;
    if (!learn(open.front(), stop)) return LoopEnd::Stopped;
    open.erase(open.begin());
  }
  return end;
}

}  // namespace nos::search
