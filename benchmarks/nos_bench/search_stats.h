// What `nos-bench search` reports about one finished search, computed from its database alone
// (controller/search/storage.h, read-only) and the wall-clock window of the `nos-search run` that
// made it: counts and rates of candidates, trainings, hits and rejections, throughput, and where the
// workers' time went: child training, the overhead around it inside an evaluation, and the time
// workers had nothing to do, by why. Torch-free.
//
// The accounting (docs/benchmarks.md): the workers had W = workers x wall seconds. Busy is the sum
// over every evaluation attempt a worker made (claim to commit: started_at..finished_at); child
// training is the part of it in training steps and per-epoch validation (the sweep's and the final
// run's: the timings JSON). The rest of W is idle, classified on a timeline rebuilt from the
// database (each task queued from its batch's enqueue, or its previous attempt's end, to its
// claim): before the first batch or before the worker's first claim (start-up: loading the data),
// after the last write (shut-down), while a task was queued (claim latency: polling), while nothing was queued but another worker
// was busy (the end of a batch the controller waits for), and while no worker was busy and nothing
// was queued (waiting for the controller). This holds for the strict loop, the overlapped one
// (the default: the next batch is proposed while the current one is evaluated) and --async.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/search/storage.h"

namespace nos::bench {

// When the `nos-search run` process ran (unix seconds; the SQLite database's clock is the same
// system clock) and with how many workers.
struct RunWindow {
  int workers = 1;
  double start = 0, end = 0;  // 0: from the database (the search's creation, its last write)
  std::int64_t pace_window = 10000;  // candidates in each of SearchPace's windows (at most half the search)
};

struct SearchCounts {
  std::int64_t candidates = 0;      // proposed and stored
  std::int64_t batches = 0;         // learned from (a saved strategy state)
  std::int64_t results = 0;         // candidates with an accepted stage-1 result
  std::int64_t trained = 0;         // ... of which trained by a worker (source `trained`)
  std::int64_t cache_hits = 0, fingerprint_hits = 0;
  // By status, of the results that were not hits (trained or screened), as the search's progress counts them.
  std::int64_t ok = 0, rejected = 0, invalid = 0, diverged = 0, crashed = 0, time_budget = 0;
  std::int64_t second_stage = 0;    // accepted stage-2 results (the funnel)
  std::int64_t attempts = 0;        // evaluation attempts by workers, every stage, failed ones too
  std::int64_t failed_attempts = 0; // attempts that were not the accepted result (crash, lost lease)
};

// Worker-seconds (summed over workers), except `wall`.
struct TimeSplit {
  double wall = 0;               // the run's wall time
  double worker_seconds = 0;     // workers x wall
  double child_training = 0;     // training steps and per-epoch validation, sweep and final run
  double busy = 0;               // inside evaluation attempts: claim to commit
  double eval_compile = 0;       // ... of which compiling the rule and its kernels (timings.compile)
  double eval_data = 0;          // ... loading and splitting data (timings.data)
  double eval_setup = 0;         // ... the rest of the child protocol's wall time (timings.total): the
                                 //     models and initial weights of the sweep's runs and the final one
  double eval_worker = 0;        // ... outside the child protocol: the worker's own compile of the
                                 //     rule, the commit; all of an attempt without timings (a crash)
  double idle_startup = 0;       // idle before the first batch was stored, and each worker before its first claim
  double idle_claim = 0;         // idle while a task was queued: claim polling, a restarted worker
  double idle_batch_end = 0;     // nothing queued, another worker busy: waiting for a batch's last results
  double idle_controller = 0;    // nothing queued, no worker busy: waiting for the controller
  double idle_shutdown = 0;      // idle after the last write (stopping the workers)
  double unaccounted = 0;        // worker_seconds minus busy and idle (overlapping attempts, clock skew)
  bool sweep_split_known = true; // false: a search without sweep_training; its whole sweep counted as training
};

// CPU time of the processes (seconds), where the benchmark could measure it.
struct CpuTimes {
  double controller = 0;  // the `nos-search run` process itself: loop, intake (compile, probes), PPO, storage
  double workers = 0;     // its worker processes, together
  int cores = 0;          // of the machine
};

// Whether a search slows down as its history grows: the seconds per candidate over its first and
// its last `window` candidates. The search is done with its first k candidates (those with a
// result, in index order) at t(k), when the last accepted stage-1 result among them was stored
// (t(0): the first candidate's storing), so a window's time holds everything the search did for
// it: the intake, the claims, the workers' commits and the learning after each batch (the next
// batches wait for it). The first window starts at the first k with t(k) at or after the first
// result a worker stored: the workers' start-up is not the search's pace.
struct SearchPace {
  std::int64_t window = 0;
  std::int64_t from = 0;       // the first window's first k
  double first = 0, last = 0;  // seconds per candidate
  double ratio() const { return first > 0 ? last / first : 0; }
};
// None with fewer than two candidates with results; the window shrinks to half of those.
std::optional<SearchPace> search_pace(const std::vector<nos::search::Candidate>& candidates,
                                      const std::vector<nos::search::Evaluation>& evaluations, std::int64_t window);

struct SearchStats {
  int workers = 1;
  std::optional<SearchPace> pace;
  SearchCounts counts;
  TimeSplit time;
  std::optional<CpuTimes> cpu;
  std::string config_json;       // the search's stored configuration

  double rate(std::int64_t n) const;  // n / candidates (0 without candidates)
  double candidates_per_hour() const;
  double trainings_per_hour() const;
  // 1 - child_training / (workers x wall): the share of the workers' time outside child training.
  double overhead_share() const;
  // The same without start-up and shut-down (the steady state a long search approaches).
  double steady_overhead_share() const;
};

// What the analysis reads of one search, as the storage returns it.
struct SearchRecords {
  double created_at = 0;  // the search's creation, database clock
  std::string config_json;
  std::vector<nos::search::Candidate> candidates;
  std::vector<nos::search::Evaluation> evaluations;
  std::vector<nos::search::BatchRecord> batches;
};

// Reads search `search` of `storage` (only reads).
SearchRecords read_search(nos::search::Storage& storage, nos::search::SearchId search);

// Evaluations of every stage count as busy time and child training; the counts of results are
// stage 1's.
SearchStats analyze(const SearchRecords& records, const RunWindow& window);

inline SearchStats analyze_search(nos::search::Storage& storage, nos::search::SearchId search, const RunWindow& window) {
  return analyze(read_search(storage, search), window);
}

// The child training in one evaluation's timings JSON (sweep_training + sweep_validation +
// training + validation); `split_known` is cleared when the sweep's split is missing, and then
// the whole `sweep` counts. Not JSON, or no timings: 0.
double child_training_seconds(const std::string& timings_json, bool* split_known = nullptr);

nlohmann::json to_json(const SearchStats& stats);

// Throughput of `than`'s candidates and trainings per hour relative to `base` (2 workers / 1).
struct Scaling {
  int workers = 0, base_workers = 0;
  std::optional<double> candidates, trainings;  // ratios; none where the base had none
};
Scaling scaling(const SearchStats& base, const SearchStats& than);
nlohmann::json to_json(const Scaling& s);

// The console tables: counts and throughput per worker count, the time split, the ratios.
std::string format_search_report(const std::vector<SearchStats>& runs, const std::vector<Scaling>& ratios);

}  // namespace nos::bench
