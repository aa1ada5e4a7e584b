// What `nos-bench scaling` reports about one measured window of workers on a synthetic child,
// computed from the search's stored evaluation attempts alone (controller/search/storage.h), so
// that SQLite and PostgreSQL are judged by the same arithmetic. Torch-free.
//
// Throughput: the accepted trained evaluations whose commit (finished_at) fell in the window,
// per second, against the ideal of `workers / child_seconds` (each worker sleeping the child's
// seconds back to back, no time between). Claim latency: a worker's dead time between two of its
// evaluations, from the commit of one result (finished_at) to the lease of the next task
// (started_at = the claim's time), for the claims that fell in the window; while the queue holds
// work (the queue mode keeps it full) it is the cost of committing and claiming, which is what
// keeps a worker below the ideal: efficiency <= child / (child + latency). The cycle (one lease to
// the worker's next) adds what the worker spends around the child outside the database's view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/search/storage.h"

namespace nos::bench {

// The window measured (unix seconds, the database's clock: here the machine's) and its setting.
struct ScalingWindow {
  int workers = 1;
  double child_seconds = 1;
  double start = 0, end = 0;
};

// Seconds; nearest-rank percentiles; all 0 without samples.
struct LatencySummary {
  std::int64_t samples = 0;
  double mean = 0, median = 0, p90 = 0, p99 = 0, max = 0;
};
LatencySummary summarize_latency(std::vector<double> seconds);

struct ScalingStats {
  ScalingWindow window;
  std::int64_t evaluations = 0;     // accepted trained attempts committed in the window
  std::int64_t refused = 0;         // attempts committed in the window that were not accepted
  int workers_seen = 0;             // distinct workers that committed in the window
  double evaluations_per_second = 0;
  double ideal_per_second = 0;      // workers / child_seconds
  double efficiency = 0;            // evaluations_per_second / ideal_per_second
  LatencySummary claim;             // commit of one result to the lease of the worker's next task
  // A worker's lease to its next lease, for the leases that fell in the window: the child's
  // seconds plus every cost around it (the claim, the commit, the worker's own bookkeeping).
  LatencySummary cycle;
  // The best a worker could do with that median claim latency: child / (child + median latency).
  double latency_bound() const;
  // What the mean cycle allows: child / mean cycle (the efficiency, when every worker is busy).
  double cycle_bound() const;
};

// `evaluations`: the search's attempts (Storage::evaluations), any order; results known without
// training (task 0) are ignored.
ScalingStats analyze_scaling(const std::vector<nos::search::Evaluation>& evaluations, const ScalingWindow& window);

nlohmann::json to_json(const LatencySummary& latency);
nlohmann::json to_json(const ScalingStats& stats);

// One line of the console table per measured run: `label` names its backend and mode.
struct ScalingRow {
  std::string label;
  ScalingStats stats;
};
std::string format_scaling_table(const std::vector<ScalingRow>& rows);

}  // namespace nos::bench
