// Wall-clock measurement of one repeated operation: warm-up runs, then timed repetitions, reduced to
// median and spread. Torch-free; the caller passes how to wait for the device.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace nos::bench {

struct Stats {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;  // samples taken
};

// Median (mean of the two middle samples for an even count), min and max. Empty input: all zero.
Stats summarize(std::vector<double> samples_ms);

struct MeasureOptions {
  int warmup = 2;            // untimed runs first: page faults, lazily allocated state, JIT, caches
  int reps = 10;             // timed runs at most
  int min_reps = 3;          // ... and at least this many, even past max_seconds
  double max_seconds = 5.0;  // stop timing once this much time went into the timed runs
};

// Times `run` (followed by `sync`, which waits for asynchronous devices; included in the time so a
// GPU step counts until its kernels finish). `sync` also runs once before the first timed run.
Stats measure(const MeasureOptions& options, const std::function<void()>& run,
              const std::function<void()>& sync = {});

// Times several operations in rounds: warm-up of each, then one timed run of each per round, so
// that drift in the machine's speed (other virtual machines sharing the memory bus, a build
// starting) lands on all of them alike and their ratios stay fair. An operation leaves the rounds
// once it has min_reps samples and max_seconds of timed work; the others go on up to reps. Each
// run is followed by its `syncs` entry when there is one.
std::vector<Stats> measure_rounds(const MeasureOptions& options, const std::vector<std::function<void()>>& runs,
                                  const std::vector<std::function<void()>>& syncs);

// Seconds since `start`, for progress messages and budgets.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The 1-minute load average (/proc/loadavg), or -1 where there is none: numbers taken while other
// work ran on the machine are recorded as such.
double load_average_1m();

}  // namespace nos::bench
