#include "benchmarks/nos_bench/timing.h"

#include <algorithm>
#include <fstream>

namespace nos::bench {

Stats summarize(std::vector<double> samples_ms) {
  Stats s;
  s.reps = static_cast<int>(samples_ms.size());
  if (samples_ms.empty()) return s;
  std::sort(samples_ms.begin(), samples_ms.end());
  std::size_t n = samples_ms.size();
  s.median_ms = n % 2 ? samples_ms[n / 2] : 0.5 * (samples_ms[n / 2 - 1] + samples_ms[n / 2]);
  s.min_ms = samples_ms.front();
  s.max_ms = samples_ms.back();
  return s;
}

Stats measure(const MeasureOptions& options, const std::function<void()>& run, const std::function<void()>& sync) {
  using Clock = std::chrono::steady_clock;
  auto wait = [&] {
    if (sync) sync();
  };
  for (int i = 0; i < options.warmup; ++i) run();
  wait();
  std::vector<double> samples;
  double spent = 0;
  for (int i = 0; i < options.reps; ++i) {
    if (i >= options.min_reps && spent >= options.max_seconds) break;
    auto start = Clock::now();
    run();
    wait();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    samples.push_back(ms);
    spent += ms / 1000;
  }
  return summarize(std::move(samples));
}

std::vector<Stats> measure_rounds(const MeasureOptions& options, const std::vector<std::function<void()>>& runs,
                                  const std::vector<std::function<void()>>& syncs) {
  using Clock = std::chrono::steady_clock;
  const std::size_t n = runs.size();
  auto wait = [&](std::size_t k) {
    if (k < syncs.size() && syncs[k]) syncs[k]();
  };
  for (std::size_t k = 0; k < n; ++k) {
    for (int i = 0; i < options.warmup; ++i) runs[k]();
    wait(k);
  }
  std::vector<std::vector<double>> samples(n);
  std::vector<double> spent(n, 0);
  for (int round = 0; round < options.reps; ++round) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = (i + round) % n;  // each takes every place in the round equally often
      if (round >= options.min_reps && spent[k] >= options.max_seconds) continue;
      any = true;
      auto start = Clock::now();
      runs[k]();
      wait(k);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      samples[k].push_back(ms);
      spent[k] += ms / 1000;
    }
    if (!any) break;
  }
  std::vector<Stats> out;
  for (std::vector<double>& s : samples) out.push_back(summarize(std::move(s)));
  return out;
}

double load_average_1m() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (!(in >> load)) return -1;
  return load;
}

}  // namespace nos::bench
