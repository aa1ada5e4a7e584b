#include "benchmarks/nos_bench/scaling_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace nos::bench {

using nos::search::Evaluation;

LatencySummary summarize_latency(std::vector<double> seconds) {
  LatencySummary s;
  if (seconds.empty()) return s;
  std::sort(seconds.begin(), seconds.end());
  s.samples = static_cast<std::int64_t>(seconds.size());
  double sum = 0;
  for (double v : seconds) sum += v;
  s.mean = sum / static_cast<double>(seconds.size());
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  auto rank = [&](double q) {
    std::size_t k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(seconds.size())));
    return seconds[std::clamp<std::size_t>(k, 1, seconds.size()) - 1];
  };
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  s.max = seconds.back();
  return s;
}

double ScalingStats::latency_bound() const {
  double period = window.child_seconds + claim.median;
  return period > 0 ? window.child_seconds / period : 0;
}

double ScalingStats::cycle_bound() const { return cycle.mean > 0 ? window.child_seconds / cycle.mean : 0; }

ScalingStats analyze_scaling(const std::vector<Evaluation>& evaluations, const ScalingWindow& window) {
  ScalingStats s;
  s.window = window;
  auto inside = [&](double t) { return t >= window.start && t < window.end; };
  std::map<std::string, std::vector<const Evaluation*>> by_worker;
  std::set<std::string> seen;
  for (const Evaluation& e : evaluations) {
    if (e.task == 0) continue;  // known without training: no worker involved
    by_worker[e.worker].push_back(&e);
    if (!inside(e.finished_at)) continue;
    seen.insert(e.worker);
    if (!e.accepted) ++s.refused;
    else if (e.source == search::Source::Trained) ++s.evaluations;
  }
  std::vector<double> gaps, cycles;
  for (auto& [worker, attempts] : by_worker) {
    std::sort(attempts.begin(), attempts.end(),
              [](const Evaluation* a, const Evaluation* b) { return a->started_at < b->started_at; });
    for (std::size_t i = 1; i < attempts.size(); ++i)
      if (inside(attempts[i]->started_at)) {
        gaps.push_back(std::max(0.0, attempts[i]->started_at - attempts[i - 1]->finished_at));
        cycles.push_back(attempts[i]->started_at - attempts[i - 1]->started_at);
      }
  }
  s.claim = summarize_latency(std::move(gaps));
  s.cycle = summarize_latency(std::move(cycles));
  s.workers_seen = static_cast<int>(seen.size());
  const double seconds = window.end - window.start;
  s.evaluations_per_second = seconds > 0 ? static_cast<double>(s.evaluations) / seconds : 0;
  s.ideal_per_second = window.child_seconds > 0 ? window.workers / window.child_seconds : 0;
  s.efficiency = s.ideal_per_second > 0 ? s.evaluations_per_second / s.ideal_per_second : 0;
  return s;
}

nlohmann::json to_json(const LatencySummary& l) {
  return {{"samples", l.samples}, {"mean_s", l.mean}, {"median_s", l.median}, {"p90_s", l.p90}, {"p99_s", l.p99},
          {"max_s", l.max}};
}

nlohmann::json to_json(const ScalingStats& s) {
  return {{"workers", s.window.workers},
          {"child_seconds", s.window.child_seconds},
          {"window", {{"start", s.window.start}, {"end", s.window.end}, {"seconds", s.window.end - s.window.start}}},
          {"evaluations", s.evaluations},
          {"refused", s.refused},
          {"workers_seen", s.workers_seen},
          {"evaluations_per_second", s.evaluations_per_second},
          {"ideal_per_second", s.ideal_per_second},
          {"efficiency", s.efficiency},
          {"latency_bound", s.latency_bound()},
          {"cycle_bound", s.cycle_bound()},
          {"claim_latency", to_json(s.claim)},
          {"cycle", to_json(s.cycle)}};
}

std::string format_scaling_table(const std::vector<ScalingRow>& rows) {
  std::string out = fmt::format("{:<22} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10}\n", "run", "workers",
                                "child s", "window s", "evals", "evals/s", "ideal/s", "of ideal", "claim p50", "claim p99", "cycle");
  for (const ScalingRow& r : rows) {
    const ScalingStats& s = r.stats;
    out += fmt::format("{:<22} {:>7} {:>7.3g} {:>8.1f} {:>8} {:>8.2f} {:>8.2f} {:>9.1f}% {:>8.1f}ms {:>8.1f}ms {:>8.1f}ms\n", r.label,
                       s.window.workers, s.window.child_seconds, s.window.end - s.window.start, s.evaluations,
                       s.evaluations_per_second, s.ideal_per_second, 100 * s.efficiency, 1000 * s.claim.median,
                       1000 * s.claim.p99, 1000 * s.cycle.mean);
  }
  return out;
}

}  // namespace nos::bench
