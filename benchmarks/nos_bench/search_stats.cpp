#include "benchmarks/nos_bench/search_stats.h"
#include "support/json_number.h"
#include "controller/search/tally.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace nos::bench {
namespace {

using nlohmann::json;
using search::Candidate;
using search::Evaluation;

double number_at(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

double per_hour(std::int64_t n, double seconds) { return seconds > 0 ? 3600.0 * static_cast<double>(n) / seconds : 0; }

std::optional<double> ratio(double a, double b) {
  if (b <= 0) return std::nullopt;
  return a / b;
}

// One change of the timeline: at `time`, `queued` and `busy` change by these amounts.
struct Step {
  double time;
  int queued, busy, ready = 0;  // ready: a worker's first claim (it has started)
};

}  // namespace

double child_training_seconds(const std::string& timings_json, bool* split_known) {
  json t = json::parse(timings_json, nullptr, /*allow_exceptions=*/false);
  if (!t.is_object()) return 0;
  double seconds = number_at(t, "training") + number_at(t, "validation");
  if (t.contains("sweep_training") || t.contains("sweep_validation")) {
    seconds += number_at(t, "sweep_training") + number_at(t, "sweep_validation");
  } else if (number_at(t, "sweep") > 0) {
    // An older search: the sweep's training is not told apart from its set-up; all of it counts,
    // which can only understate the overhead.
    seconds += number_at(t, "sweep");
    if (split_known) *split_known = false;
  }
  return seconds;
}

double SearchStats::rate(std::int64_t n) const {
  return counts.candidates > 0 ? static_cast<double>(n) / static_cast<double>(counts.candidates) : 0;
}
double SearchStats::candidates_per_hour() const { return per_hour(counts.results, time.wall); }
double SearchStats::trainings_per_hour() const { return per_hour(counts.trained, time.wall); }

double SearchStats::overhead_share() const {
  return time.worker_seconds > 0 ? 1 - time.child_training / time.worker_seconds : 0;
}

double SearchStats::steady_overhead_share() const {
  double steady = time.worker_seconds - time.idle_startup - time.idle_shutdown;
  return steady > 0 ? 1 - time.child_training / steady : 0;
}

SearchRecords read_search(search::Storage& storage, search::SearchId id) {
  SearchRecords r;
  for (const search::SearchInfo& info : storage.searches())
    if (info.id == id) r.created_at = info.created_at, r.config_json = info.config_json;
  r.candidates = storage.candidates(id);
  r.evaluations = storage.evaluations(id);
  r.batches = storage.batch_records(id);
  return r;
}

std::optional<SearchPace> search_pace(const std::vector<Candidate>& candidates, const std::vector<Evaluation>& evaluations,
                                      std::int64_t window) {
  std::map<std::int64_t, double> done;  // candidate -> its accepted stage-1 result stored
  std::optional<double> first_trained;  // the first result a worker stored: the workers are up
  for (const Evaluation& e : evaluations)
    if (e.accepted && e.stage == 1) {
      done[e.candidate] = e.finished_at;
      if (e.task != 0) first_trained = std::min(first_trained.value_or(e.finished_at), e.finished_at);
    }
  // t[k]: the search is done with its first k candidates (those with results, in index order).
  std::vector<double> t;
  for (const Candidate& c : candidates) {
    auto it = done.find(c.index);
    if (it == done.end()) continue;
    if (t.empty()) t.push_back(c.created_at);
    t.push_back(std::max(t.back(), it->second));
  }
  // The first window starts once the workers are up (their start-up is not the search's pace).
  std::size_t start = 0;
  while (first_trained && start + 1 < t.size() && t[start] < *first_trained) ++start;
  const std::int64_t n = static_cast<std::int64_t>(t.size()) - 1, from = static_cast<std::int64_t>(start);
  if (n - from < 2) return std::nullopt;
  SearchPace p;
  p.window = std::max<std::int64_t>(1, std::min(window, (n - from) / 2));
  const double w = static_cast<double>(p.window);
  p.first = (t[static_cast<std::size_t>(from + p.window)] - t[start]) / w;
  p.last = (t[static_cast<std::size_t>(n)] - t[static_cast<std::size_t>(n - p.window)]) / w;
  p.from = from;
  return p;
}

SearchStats analyze(const SearchRecords& in, const RunWindow& window) {
  SearchStats s;
  s.workers = window.workers;
  s.pace = search_pace(in.candidates, in.evaluations, window.pace_window);
  s.config_json = in.config_json;
  s.counts.candidates = static_cast<std::int64_t>(in.candidates.size());
  s.counts.batches = static_cast<std::int64_t>(in.batches.size());

  std::map<std::int64_t, const Candidate*> candidate_of;
  std::optional<double> first_enqueue;
  for (const Candidate& c : in.candidates) {
    candidate_of[c.index] = &c;
    first_enqueue = std::min(first_enqueue.value_or(c.created_at), c.created_at);
  }
  std::map<std::int64_t, double> learned;  // batch -> its state saved
  double last_write = in.created_at;
  for (const search::BatchRecord& r : in.batches) {
    learned[r.batch] = r.saved_at;
    last_write = std::max(last_write, r.saved_at);
  }

  // The stage-1 results; the statuses are those of the results not reused (trained or screened).
  const search::Tally stage_one = search::tally(in.evaluations, 1);
  s.counts.results = stage_one.total;
  s.counts.trained = stage_one.of(search::Source::Trained);
  s.counts.cache_hits = stage_one.of(search::Source::CacheHit);
  s.counts.fingerprint_hits = stage_one.of(search::Source::FingerprintHit);
  s.counts.ok = stage_one.fresh(search::Status::Ok);
  s.counts.rejected = stage_one.fresh(search::Status::Rejected);
  s.counts.invalid = stage_one.fresh(search::Status::Invalid);
  s.counts.diverged = stage_one.fresh(search::Status::Diverged);
  s.counts.crashed = stage_one.fresh(search::Status::Crashed);
  s.counts.time_budget = stage_one.fresh(search::Status::TimeBudget);

  // Each task's attempts in the order they started: the first was queued when its candidate was
  // stored (stage 1) or when its batch was learned from (a later stage: the funnel queues it
  // then), each later one when the attempt before it ended.
  std::map<std::pair<std::int64_t, int>, std::vector<const Evaluation*>> attempts;
  for (const Evaluation& e : in.evaluations) {
    last_write = std::max(last_write, e.finished_at);
    if (e.accepted && e.stage == 2) ++s.counts.second_stage;
    if (e.task == 0) continue;  // known without a worker: a hit, screened, a deferred copy
    ++s.counts.attempts;
    if (!e.accepted) ++s.counts.failed_attempts;
    attempts[{e.candidate, e.stage}].push_back(&e);
    const double span = std::max(0.0, e.finished_at - e.started_at);
    const double child = child_training_seconds(e.timings_json, &s.time.sweep_split_known);
    json t = json::parse(e.timings_json, nullptr, false);
    const double compile = t.is_object() ? number_at(t, "compile") : 0, data = t.is_object() ? number_at(t, "data") : 0;
    const double protocol = t.is_object() && t.contains("total") ? number_at(t, "total") : child + compile + data;
    s.time.busy += span;
    s.time.child_training += child;
    s.time.eval_compile += compile;
    s.time.eval_data += data;
    s.time.eval_setup += protocol - child - compile - data;
    s.time.eval_worker += span - protocol;
  }

  const double start = window.start > 0 ? window.start : in.created_at;
  const double end = window.end > 0 ? window.end : last_write;
  s.time.wall = std::max(0.0, end - start);
  s.time.worker_seconds = window.workers * s.time.wall;

  std::vector<Step> steps;
  for (auto& [key, list] : attempts) {
    std::stable_sort(list.begin(), list.end(), [](const Evaluation* a, const Evaluation* b) { return a->started_at < b->started_at; });
    std::optional<double> queued_at;
    if (auto c = candidate_of.find(key.first); c != candidate_of.end()) {
      if (key.second == 1) queued_at = c->second->created_at;
      else if (auto l = learned.find(c->second->batch); l != learned.end()) queued_at = l->second;
    }
    for (const Evaluation* e : list) {
      const double from = std::min(queued_at.value_or(e->started_at), e->started_at);
      steps.push_back({from, +1, 0});
      steps.push_back({e->started_at, -1, +1});
      steps.push_back({std::max(e->started_at, e->finished_at), 0, -1});
      queued_at = e->finished_at;
    }
  }
  std::map<std::string, double> first_claim;  // by worker
  for (const auto& [key, list] : attempts)
    for (const Evaluation* e : list) {
      auto [it, fresh] = first_claim.try_emplace(e->worker, e->started_at);
      if (!fresh) it->second = std::min(it->second, e->started_at);
    }
  for (const auto& [worker, at] : first_claim) steps.push_back({at, 0, 0, 1});
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });

  // Idle worker-seconds between consecutive steps, by what the workers were waiting for.
  const double work_from = first_enqueue.value_or(end), work_until = std::max(last_write, work_from);
  // A worker that has not claimed its first task yet is still starting (loading the data).
  int queued = 0, busy = 0, ready = 0;
  double t = start;
  auto idle_until = [&](double until) {
    while (t < until) {
      // Cut the interval at the start and end of the work so that each piece has one class.
      double cut = t < work_from ? std::min(until, work_from) : t < work_until ? std::min(until, work_until) : until;
      const double dt = cut - t;
      const int starting = t < work_until ? std::max(0, window.workers - std::max(ready, busy)) : 0;
      const double idle = std::max(0, window.workers - busy - starting) * dt;
      s.time.idle_startup += starting * dt;
      if (t < work_from) s.time.idle_startup += idle;
      else if (t >= work_until) s.time.idle_shutdown += idle;
      else if (queued > 0) s.time.idle_claim += idle;
      else if (busy > 0) s.time.idle_batch_end += idle;
      else s.time.idle_controller += idle;
      t = cut;
    }
  };
  for (const Step& step : steps) {
    idle_until(std::min(std::max(step.time, start), end));
    queued += step.queued;
    busy += step.busy;
    ready += step.ready;
  }
  idle_until(end);
  s.time.unaccounted = s.time.worker_seconds - s.time.busy - s.time.idle_startup - s.time.idle_claim -
                       s.time.idle_batch_end - s.time.idle_controller - s.time.idle_shutdown;
  return s;
}

json to_json(const SearchStats& s) {
  const SearchCounts& c = s.counts;
  const TimeSplit& t = s.time;
  auto share = [&](double worker_seconds) { return t.worker_seconds > 0 ? worker_seconds / t.worker_seconds : 0.0; };
  json counts = {{"candidates", c.candidates}, {"batches", c.batches}, {"results", c.results},
                 {"trained", c.trained}, {"cache_hits", c.cache_hits}, {"fingerprint_hits", c.fingerprint_hits},
                 {"ok", c.ok}, {"rejected", c.rejected}, {"invalid", c.invalid}, {"diverged", c.diverged},
                 {"crashed", c.crashed}, {"time_budget", c.time_budget}, {"second_stage", c.second_stage},
                 {"attempts", c.attempts}, {"failed_attempts", c.failed_attempts}};
  json rates = {{"trained", s.rate(c.trained)}, {"cache_hits", s.rate(c.cache_hits)},
                {"fingerprint_hits", s.rate(c.fingerprint_hits)}, {"ok", s.rate(c.ok)},
                {"rejected", s.rate(c.rejected)}, {"invalid", s.rate(c.invalid)}, {"diverged", s.rate(c.diverged)},
                {"crashed", s.rate(c.crashed)}, {"time_budget", s.rate(c.time_budget)}};
  json seconds = {{"wall", t.wall}, {"worker_seconds", t.worker_seconds}, {"child_training", t.child_training},
                  {"busy", t.busy}, {"eval_compile", t.eval_compile}, {"eval_data", t.eval_data},
                  {"eval_setup", t.eval_setup}, {"eval_worker", t.eval_worker}, {"idle_startup", t.idle_startup},
                  {"idle_claim", t.idle_claim}, {"idle_batch_end", t.idle_batch_end},
                  {"idle_controller", t.idle_controller}, {"idle_shutdown", t.idle_shutdown},
                  {"unaccounted", t.unaccounted}};
  json shares = json::object();
  for (auto& [key, value] : seconds.items())
    if (key != "wall" && key != "worker_seconds") shares[key] = share(value.get<double>());
  json cpu = nullptr;
  if (s.cpu) {
    const double capacity = s.cpu->cores * t.wall;
    cpu = {{"controller", s.cpu->controller}, {"workers", s.cpu->workers}, {"cores", s.cpu->cores},
           {"controller_share_of_cores", capacity > 0 ? s.cpu->controller / capacity : 0.0},
           {"workers_share_of_cores", capacity > 0 ? s.cpu->workers / capacity : 0.0}};
  }
  json pace = nullptr;
  if (s.pace)
    pace = {{"window", s.pace->window}, {"first_window_from", s.pace->from}, {"first_seconds_per_candidate", s.pace->first},
            {"last_seconds_per_candidate", s.pace->last}, {"last_over_first", s.pace->ratio()}};
  return {{"workers", s.workers},
          {"counts", counts},
          {"rates", rates},
          {"candidates_per_hour", s.candidates_per_hour()},
          {"trainings_per_hour", s.trainings_per_hour()},
          {"child_training_per_training", c.trained > 0 ? t.child_training / static_cast<double>(c.trained) : 0.0},
          {"overhead_share", s.overhead_share()},
          {"steady_overhead_share", s.steady_overhead_share()},
          {"seconds", seconds},
          {"shares", shares},
          {"cpu", cpu},
          {"pace", pace},
          {"sweep_split_known", t.sweep_split_known}};
}

Scaling scaling(const SearchStats& base, const SearchStats& than) {
  Scaling s;
  s.workers = than.workers;
  s.base_workers = base.workers;
  s.candidates = ratio(than.candidates_per_hour(), base.candidates_per_hour());
  s.trainings = ratio(than.trainings_per_hour(), base.trainings_per_hour());
  return s;
}

json to_json(const Scaling& s) {
  return {{"workers", s.workers}, {"base_workers", s.base_workers},
          {"candidates_per_hour_ratio", support::number_or_null(s.candidates)},
          {"trainings_per_hour_ratio", support::number_or_null(s.trainings)}};
}

std::string format_search_report(const std::vector<SearchStats>& runs, const std::vector<Scaling>& ratios) {
  std::string out;
  auto count_rate = [](const SearchStats& s, std::int64_t n) { return fmt::format("{} ({:.0f}%)", n, 100 * s.rate(n)); };
  out += fmt::format("\n{:>7} {:>8} {:>10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "workers",
                     "wall s", "candidates", "trained", "cache hits", "fingerprint", "rejected", "invalid", "diverged",
                     "crashed", "cand/h", "train/h");
  for (const SearchStats& s : runs) {
    const SearchCounts& c = s.counts;
    out += fmt::format("{:>7} {:>8.1f} {:>10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>10} {:>9.0f} {:>9.0f}\n",
                       s.workers, s.time.wall, c.candidates, count_rate(s, c.trained), count_rate(s, c.cache_hits),
                       count_rate(s, c.fingerprint_hits), count_rate(s, c.rejected), count_rate(s, c.invalid),
                       count_rate(s, c.diverged), count_rate(s, c.crashed), s.candidates_per_hour(),
                       s.trainings_per_hour());
  }
  out += "\nworker time (workers x wall) as shares: child training; inside evaluations compile, data, setup, "
         "worker;\nidle at start-up, waiting to claim, at a batch's end, for the controller, at shut-down; other\n";
  out += fmt::format("{:>7} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>8} {:>8} {:>9} {:>8}\n",
                     "workers", "worker s", "training", "compile", "data", "setup", "worker", "startup", "claim",
                     "batch end", "controller", "shutdown", "other", "overhead", "steady");
  for (const SearchStats& s : runs) {
    const TimeSplit& t = s.time;
    auto pct = [&](double worker_seconds) {
      return t.worker_seconds > 0 ? fmt::format("{:.2f}%", 100 * worker_seconds / t.worker_seconds) : std::string("-");
    };
    out += fmt::format("{:>7} {:>9.1f} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>8} {:>8} {:>9} {:>8}\n",
                       s.workers, t.worker_seconds, pct(t.child_training), pct(t.eval_compile), pct(t.eval_data),
                       pct(t.eval_setup), pct(t.eval_worker), pct(t.idle_startup), pct(t.idle_claim),
                       pct(t.idle_batch_end), pct(t.idle_controller), pct(t.idle_shutdown), pct(t.unaccounted),
                       fmt::format("{:.2f}%", 100 * s.overhead_share()),
                       fmt::format("{:.2f}%", 100 * s.steady_overhead_share()));
    if (!t.sweep_split_known)
      out += "        (an older search without sweep_training: its whole sweep counted as training)\n";
  }
  bool any_cpu = false;
  for (const SearchStats& s : runs) any_cpu = any_cpu || s.cpu.has_value();
  if (any_cpu) {
    out += "\nCPU time: the nos-search run process (controller) and its workers, as shares of cores x wall\n";
    out += fmt::format("{:>7} {:>6} {:>14} {:>14}\n", "workers", "cores", "controller", "workers");
    for (const SearchStats& s : runs)
      if (s.cpu) {
        const double capacity = s.cpu->cores * s.time.wall;
        auto cell = [&](double cpu) {
          return capacity > 0 ? fmt::format("{:.1f} s {:.1f}%", cpu, 100 * cpu / capacity) : fmt::format("{:.1f} s", cpu);
        };
        out += fmt::format("{:>7} {:>6} {:>14} {:>14}\n", s.workers, s.cpu->cores, cell(s.cpu->controller),
                           cell(s.cpu->workers));
      }
  }
  bool any_pace = false;
  for (const SearchStats& s : runs) any_pace = any_pace || s.pace.has_value();
  if (any_pace) {
    out += "\npace: seconds per candidate over the first and the last window of candidates (intake to learning)\n";
    out += fmt::format("{:>7} {:>8} {:>12} {:>12} {:>11}\n", "workers", "window", "first ms", "last ms", "last/first");
    for (const SearchStats& s : runs)
      if (s.pace)
        out += fmt::format("{:>7} {:>8} {:>12.3f} {:>12.3f} {:>10.2f}x\n", s.workers, s.pace->window, 1e3 * s.pace->first,
                           1e3 * s.pace->last, s.pace->ratio());
  }
  for (const Scaling& r : ratios)
    out += fmt::format("\nthroughput {} workers / {}: candidates {}, trainings {}\n", r.workers, r.base_workers,
                       r.candidates ? fmt::format("{:.2f}x", *r.candidates) : "-",
                       r.trainings ? fmt::format("{:.2f}x", *r.trainings) : "-");
  return out;
}

}  // namespace nos::bench
