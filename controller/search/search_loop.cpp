#include "controller/search/search_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/search/intake.h"
#include "dsl/diagnostic.h"
#include "dsl/tokens.h"
#include "runtime/json_text.h"

namespace nos::search {
namespace {

using nlohmann::json;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The accepted stage-1 result of each candidate of a batch, in candidate order: one query for the
// batch (a round trip per candidate was the PostgreSQL intake's cost).
std::vector<Evaluation> stage_one_results(Storage& storage, SearchId search, std::int64_t batch) {
  std::vector<Evaluation> out;
  for (Evaluation& e : storage.evaluations_of_batch(search, batch))
    if (e.accepted && e.stage == 1) out.push_back(std::move(e));
  return out;
}

// A batch record's counts: the names that occur, with their counts (a JSON object sorts its keys).
json by_status(const Tally& t) {
  json out = json::object();
  for (Status s : kStatuses)
    if (t.of(s)) out[name(s)] = t.of(s);
  return out;
}

json by_source(const Tally& t) {
  json out = json::object();
  for (Source s : kSources)
    if (t.of(s)) out[name(s)] = t.of(s);
  return out;
}

bool same_tokens(const std::vector<controller::Proposal>& proposals, const std::vector<Candidate>& stored) {
  if (proposals.size() != stored.size()) return false;
  for (std::size_t i = 0; i < stored.size(); ++i)
    if (dsl::print_tokens(proposals[i].tokens) != stored[i].tokens) return false;
  return true;
}

}  // namespace

SearchLoop::SearchLoop(Storage& storage, SearchId search, const SearchConfig& config, controller::Strategy& strategy,
                       LoopEvents events)
    : storage_(storage), search_(search), config_(config), strategy_(strategy), events_(std::move(events)) {
  const std::int64_t batch = strategy_.batch_size();
  progress_.batches = (config_.budget + batch - 1) / batch;
  progress_.budget = progress_.batches * batch;
}

void SearchLoop::count(const Evaluation& e) {
  ++progress_.evaluated;
  progress_.results.add(e);
}

void SearchLoop::refresh_rates() {
  double run_seconds = now_seconds() - started_;
  progress_.elapsed = elapsed_before_ + run_seconds;
  std::int64_t done = progress_.evaluated - evaluated_at_start_;
  progress_.per_minute = run_seconds > 0 ? 60.0 * static_cast<double>(done) / run_seconds : 0;
  if (progress_.per_minute > 0)
    progress_.eta = 60.0 * static_cast<double>(std::max<std::int64_t>(0, progress_.budget - progress_.evaluated)) /
                    progress_.per_minute;
  else
    progress_.eta.reset();
  TaskCounts counts = storage_.counts(search_);
  progress_.queued = counts.queued;
  progress_.running = counts.running;
}

bool SearchLoop::out_of_time() const {
  return config_.time_budget > 0 && elapsed_before_ + (now_seconds() - started_) >= config_.time_budget;
}

bool SearchLoop::wait_until(const std::function<bool()>& done, const std::atomic<bool>* stop) {
  double last_report = 0;
  while (!done()) {
    if (stop && stop->load()) return false;
    if (events_.poll_workers)
      for (const std::string& line : events_.poll_workers())
        if (events_.on_note) events_.on_note(line);
    if (events_.on_wait && now_seconds() - last_report >= 0.5) {
      refresh_rates();
      events_.on_wait(progress_);
      last_report = now_seconds();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

void SearchLoop::queue_second_stage(std::int64_t batch) {
  if (!config_.funnel.enabled()) return;
  const bool per_seed = config_.funnel.per_seed();
  std::vector<Candidate> candidates = storage_.candidates(search_, batch);
  std::vector<Evaluation> results = stage_one_results(storage_, search_, batch);
  std::vector<const Evaluation*> trained;
  // A per-seed funnel takes repeats (hits) too: a chosen repeat trains its rule on further seeds.
  for (const Evaluation& e : results)
    if ((e.source == Source::Trained || (per_seed && is_hit(e.source))) && e.reward && usable(e.status))
      trained.push_back(&e);
  std::stable_sort(trained.begin(), trained.end(), [](const Evaluation* a, const Evaluation* b) { return *a->reward > *b->reward; });
  std::size_t top = static_cast<std::size_t>(std::ceil(config_.funnel.top_fraction * static_cast<double>(candidates.size())));
  for (std::size_t i = 0; i < trained.size(); ++i) {
    bool chosen = i < top;
    if (config_.funnel.margin && progress_.best_reward)
      chosen = chosen || *trained[i]->reward >= *progress_.best_reward - *config_.funnel.margin;
    if (!chosen) continue;
    if (per_seed) queue_seeds(candidates, *trained[i]);
    else if (!storage_.has_task(search_, trained[i]->candidate, 2)) storage_.enqueue_stage(search_, trained[i]->candidate, 2);
  }
}

void SearchLoop::queue_seeds(const std::vector<Candidate>& batch, const Evaluation& chosen) {
  const Candidate* candidate = nullptr;
  for (const Candidate& c : batch)
    if (c.index == chosen.candidate) candidate = &c;
  if (!candidate) return;
  // The slots its rule has trained or queued: of its hash, and for a fingerprint hit also those of
  // the rule it copies (the same behaviour: the same seeds would only repeat its results).
  std::set<int> used;
  for (int slot : storage_.stage_seeds(search_, candidate->hash, 2)) {
    // Queued for this very candidate already (its batch learned again after a resume): done.
    if (storage_.has_task(search_, candidate->index, 2, slot)) return;
    used.insert(slot);
  }
  if (chosen.source == Source::FingerprintHit && chosen.reused_from)
    for (const Candidate& c : storage_.candidates(search_))
      if (c.index == *chosen.reused_from)
        for (int slot : storage_.stage_seeds(search_, c.hash, 2)) used.insert(slot);
  // The next `seeds` slots the rule has not trained on, each with the baselines on it (once).
  int queued = 0;
  for (int slot = 0; queued < config_.funnel.seeds; ++slot) {
    if (used.count(slot)) continue;
    storage_.enqueue_stage(search_, candidate->index, 2, slot);
    for (const std::string& baseline : config_.funnel.baselines) storage_.enqueue_baseline(search_, baseline, 2, slot);
    ++queued;
  }
}

void SearchLoop::learn(std::int64_t batch, const std::vector<controller::Proposal>& proposals) {
  progress_.batch = batch;
  resolve_copies(storage_, search_, batch);
  std::vector<Candidate> candidates = storage_.candidates(search_, batch);
  std::vector<Evaluation> results = stage_one_results(storage_, search_, batch);
  if (results.size() != candidates.size())
    throw std::logic_error(fmt::format("batch {}: {} candidates but {} results", batch, candidates.size(), results.size()));

  std::vector<controller::Outcome> outcomes;
  Tally batch_results;
  double sum = 0, max = -INFINITY, min = INFINITY, learned_sum = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Evaluation& e = results[i];
    double reward = e.reward.value_or(config_.failure_reward);
    bool repeat = is_hit(e.source);
    double learned = repeat && config_.repeat_reward ? *config_.repeat_reward : reward;
    outcomes.push_back({proposals[i], learned});
    learned_sum += learned;
    count(e);
    batch_results.add(e);
    sum += reward, max = std::max(max, reward), min = std::min(min, reward);
    if (e.reward && (!progress_.best_reward || *e.reward > *progress_.best_reward)) {
      progress_.best_reward = *e.reward;
      progress_.best_rule = candidates[i].rule;
    }
  }
  progress_.batch_mean_reward = results.empty() ? 0 : sum / static_cast<double>(results.size());
  queue_second_stage(batch);
  strategy_.observe(outcomes);

  refresh_rates();
  json strategy_statistics = json::object();
  for (const controller::Statistic& s : strategy_.statistics())
    strategy_statistics[s.name] = std::isfinite(s.value) ? json(s.value) : json(nullptr);
  json statistics = {{"batch", batch},
                     {"elapsed", progress_.elapsed},
                     {"evaluated", progress_.evaluated},
                     {"rewards",
                      {{"mean", progress_.batch_mean_reward},
                       {"max", max},
                       {"min", min},
                       {"learned_mean", results.empty() ? 0 : learned_sum / static_cast<double>(results.size())}}},
                     {"statuses", by_status(batch_results)},
                     {"sources", by_source(batch_results)},
                     {"strategy", strategy_statistics}};
  if (progress_.best_reward) statistics["best"] = {{"reward", *progress_.best_reward}, {"rule", progress_.best_rule}};
  storage_.save_strategy_state(search_, batch, strategy_.save(), json_text(statistics));
  // A resume needs only the latest state (the lstm's is megabytes); every batch keeps its statistics.
  storage_.drop_strategy_states_before(search_, batch - 1);
  storage_.checkpoint();
  if (events_.on_batch) events_.on_batch(progress_);
}

std::vector<controller::Proposal> stored_proposals(Storage& storage, SearchId search, std::int64_t batch) {
  std::vector<controller::Proposal> out;
  for (const Candidate& c : storage.candidates(search, batch)) {
    controller::Proposal p;
    p.index = static_cast<std::uint64_t>(c.index);
    p.tokens = dsl::parse_tokens(std::make_shared<dsl::Source>("candidate " + std::to_string(c.index), c.tokens));
    p.data = c.strategy_data;
    p.origin = "stored";
    out.push_back(std::move(p));
  }
  return out;
}

LoopEnd SearchLoop::run(const std::atomic<bool>* stop) {
  started_ = now_seconds();
  // Batches proposed and not yet learned from: at most one (the method's loop), 1 + lookahead
  // (overlapped: the next ones are proposed while the first is evaluated), or any number (async).
  std::vector<std::pair<std::int64_t, std::vector<controller::Proposal>>> open;
  std::int64_t next = 0;
  if (std::optional<StrategyState> state = storage_.latest_strategy_state(search_)) {
    if (config_.async) throw SearchError("an --async search cannot be resumed (its proposals depend on timing)");
    strategy_.restore(state->bytes);
    next = state->batch + 1;
    std::vector<BatchRecord> records = storage_.batch_records(search_);
    if (!records.empty()) {
      json last = json::parse(records.back().statistics_json, nullptr, false);
      if (last.is_object() && last.contains("elapsed") && last["elapsed"].is_number()) elapsed_before_ = last["elapsed"].get<double>();
    }
    // What the batches learned from so far have counted.
    for (std::int64_t b = 0; b < next; ++b) {
      std::vector<Candidate> candidates = storage_.candidates(search_, b);
      std::vector<Evaluation> results = stage_one_results(storage_, search_, b);
      for (std::size_t i = 0; i < results.size(); ++i) {
        count(results[i]);
        if (results[i].reward && (!progress_.best_reward || *results[i].reward > *progress_.best_reward)) {
          progress_.best_reward = *results[i].reward;
          progress_.best_rule = candidates[i].rule;
        }
      }
    }
    evaluated_at_start_ = progress_.evaluated;
    if (events_.on_note)
      events_.on_note(fmt::format("resuming after batch {} ({} candidates evaluated, {:.0f} s searched)", state->batch + 1,
                                  progress_.evaluated, elapsed_before_));
    // Overlapped, the saved state had already proposed the batches after it: those are open.
    while (config_.overlap && open.size() < static_cast<std::size_t>(config_.lookahead) &&
           !storage_.candidates(search_, next).empty()) {
      open.emplace_back(next, stored_proposals(storage_, search_, next));
      ++next;
    }
  }

  const std::int64_t batch_size = strategy_.batch_size();
  const std::size_t lag = config_.overlap ? static_cast<std::size_t>(config_.lookahead) : 0;
  LoopEnd end = LoopEnd::Budget;
  auto finished = [&](std::int64_t batch) { return storage_.counts(search_, batch).pending() == 0; };
  while (true) {
    if (stop && stop->load()) return LoopEnd::Stopped;
    bool more = next < progress_.batches;
    if (more && out_of_time() && storage_.candidates(search_, next).empty()) {
      more = false;
      end = LoopEnd::TimeBudget;
    }
    bool room = config_.async ? open.empty() || storage_.counts(search_).queued < batch_size : open.size() <= lag;
    if (more && room) {
      std::vector<controller::Proposal> proposals = strategy_.propose(static_cast<int>(batch_size));
      std::vector<Candidate> stored = storage_.candidates(search_, next);
      if (stored.empty()) {
        std::vector<std::int64_t> flying;
        for (const auto& [batch, unused] : open) flying.push_back(batch);
        Intake intake = take_in(proposals, config_, storage_, search_, InFlight::of(storage_, search_, flying));
        storage_.enqueue_batch(search_, next, intake.candidates);
      } else if (!same_tokens(proposals, stored)) {
        throw SearchError(fmt::format("{}: batch {} is stored, but the strategy restored from its saved state proposes "
                                      "other rules: the search's configuration or this build's strategy changed",
                                      storage_.location(), next + 1));
      } else if (events_.on_note) {
        events_.on_note(fmt::format("batch {} was stored before the search stopped: waiting for its evaluations", next + 1));
      }
      open.emplace_back(next, std::move(proposals));
      ++next;
      continue;
    }
    if (open.empty()) break;
    // Learn from the oldest open batch once its tasks (and so every earlier batch's) have ended;
    // async: from any finished batch, or go back to proposing when the queue runs short.
    std::size_t ready = open.size();
    progress_.batch = open.front().first;  // the batch the progress line is about: the next to learn from
    bool waited = wait_until(
        [&] {
          for (std::size_t i = 0; i < (config_.async ? open.size() : 1); ++i)
            if (finished(open[i].first)) {
              ready = i;
              return true;
            }
          return config_.async && next < progress_.batches && storage_.counts(search_).queued < batch_size;
        },
        stop);
    if (!waited) return LoopEnd::Stopped;
    if (ready == open.size()) continue;
    learn(open[ready].first, open[ready].second);
    open.erase(open.begin() + static_cast<std::ptrdiff_t>(ready));
  }
  // The funnel's last second-stage tasks.
  if (!wait_until([&] { return storage_.counts(search_).pending() == 0; }, stop)) return LoopEnd::Stopped;
  refresh_rates();
  return end;
}

}  // namespace nos::search
