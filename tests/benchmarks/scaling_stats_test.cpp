// nos-bench scaling's arithmetic (benchmarks/nos_bench/scaling_stats.h) on attempts with chosen
// times: the window's evaluations and rate against the ideal, the claim latency and the cycle per
// worker, the nearest-rank percentiles, and the JSON's shape. The measurement itself is
// tests/benchmarks/scaling_command_test.cpp (end to end, no timed assertion).
#include <doctest/doctest.h>

#include "benchmarks/nos_bench/scaling_stats.h"

using namespace nos::bench;
using nos::search::Evaluation;
using nos::search::Source;
using nos::search::Status;

namespace {

Evaluation attempt(const char* worker, std::int64_t task, double start, double end, bool accepted = true,
                   Source source = Source::Trained) {
  Evaluation e;
  e.worker = worker;
  e.task = task;
  e.candidate = task - 1;
  e.accepted = accepted;
  e.source = source;
  e.started_at = start;
  e.finished_at = end;
  return e;
}

}  // namespace

TEST_CASE("summarize_latency: nearest-rank percentiles, mean and max, and nothing for no samples") {
  LatencySummary none = summarize_latency({});
  CHECK(none.samples == 0);
  CHECK(none.median == 0);
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i / 1000.0);  // 1..100 ms, unsorted
  LatencySummary s = summarize_latency(values);
  CHECK(s.samples == 100);
  CHECK(s.median == doctest::Approx(0.050));
  CHECK(s.p90 == doctest::Approx(0.090));
  CHECK(s.p99 == doctest::Approx(0.099));
  CHECK(s.max == doctest::Approx(0.100));
  CHECK(s.mean == doctest::Approx(0.0505));
  CHECK(summarize_latency({0.2}).p99 == doctest::Approx(0.2));
}

TEST_CASE("analyze_scaling: evaluations committed in the window, against workers / child seconds") {
  // Two workers, a 1 s child, window [10, 14): w1 works back to back with 0.1 s between (commit to
  // next lease), w2 with 0.3 s; one refused attempt of w2 and a hit (no task) in the window; an
  // attempt that ends after the window does not count.
  std::vector<Evaluation> e{
      attempt("w1", 1, 8.9, 9.9),    attempt("w1", 2, 10.0, 11.0), attempt("w1", 3, 11.1, 12.1),
      attempt("w1", 4, 12.2, 13.2),  attempt("w1", 5, 13.3, 14.3),
      attempt("w2", 6, 9.5, 10.5),   attempt("w2", 7, 10.8, 11.8, /*accepted=*/false),
      attempt("w2", 8, 12.1, 13.1),  attempt("w2", 9, 13.4, 14.4),
  };
  Evaluation hit;
  hit.accepted = true;
  hit.source = Source::CacheHit;
  hit.started_at = hit.finished_at = 11;
  e.push_back(hit);
  ScalingStats s = analyze_scaling(e, {2, 1.0, 10, 14});
  // committed in [10, 14): w1 tasks 2, 3, 4 (11.0, 12.1, 13.2); w2 task 6 (10.5), 8 (13.1); 7 refused
  CHECK(s.evaluations == 5);
  CHECK(s.refused == 1);
  CHECK(s.workers_seen == 2);
  CHECK(s.evaluations_per_second == doctest::Approx(1.25));
  CHECK(s.ideal_per_second == doctest::Approx(2.0));
  CHECK(s.efficiency == doctest::Approx(0.625));
  // leases in the window: w1 at 10.0, 11.1, 12.2, 13.3 (gaps 0.1 each), w2 at 10.8, 12.1, 13.4 (0.3 each)
  CHECK(s.claim.samples == 7);
  CHECK(s.claim.median == doctest::Approx(0.1));
  CHECK(s.claim.max == doctest::Approx(0.3));
  CHECK(s.claim.mean == doctest::Approx((4 * 0.1 + 3 * 0.3) / 7));
  // cycles: w1 1.1 (from 8.9 to 10.0) then 1.1 three times; w2 1.3 three times
  CHECK(s.cycle.samples == 7);
  CHECK(s.cycle.median == doctest::Approx(1.1));
  CHECK(s.cycle.max == doctest::Approx(1.3));
  CHECK(s.latency_bound() == doctest::Approx(1.0 / 1.1));
  CHECK(s.cycle_bound() == doctest::Approx(1.0 / s.cycle.mean));
}

TEST_CASE("analyze_scaling: no attempts, an empty window") {
  ScalingStats s = analyze_scaling({}, {4, 0.5, 10, 20});
  CHECK(s.evaluations == 0);
  CHECK(s.ideal_per_second == doctest::Approx(8.0));
  CHECK(s.efficiency == 0);
  CHECK(s.claim.samples == 0);
  CHECK(s.latency_bound() == doctest::Approx(1.0));  // no latency seen: the child alone
  CHECK(s.cycle_bound() == 0);
  ScalingStats empty = analyze_scaling({attempt("w", 1, 10, 11)}, {1, 1.0, 12, 12});
  CHECK(empty.evaluations_per_second == 0);
}

TEST_CASE("to_json(ScalingStats) and the table: every field the docs name") {
  ScalingStats s = analyze_scaling({attempt("w1", 1, 10, 11), attempt("w1", 2, 11.05, 12.05)}, {1, 1.0, 10, 13});
  nlohmann::json j = to_json(s);
  for (const char* key : {"workers", "child_seconds", "window", "evaluations", "refused", "workers_seen",
                          "evaluations_per_second", "ideal_per_second", "efficiency", "latency_bound", "cycle_bound",
                          "claim_latency", "cycle"})
    CHECK_MESSAGE(j.contains(key), key);
  for (const char* key : {"samples", "mean_s", "median_s", "p90_s", "p99_s", "max_s"}) {
    CHECK_MESSAGE(j["claim_latency"].contains(key), key);
    CHECK_MESSAGE(j["cycle"].contains(key), key);
  }
  CHECK(j["window"]["seconds"].get<double>() == doctest::Approx(3.0));
  CHECK(j["claim_latency"]["median_s"].get<double>() == doctest::Approx(0.05));
  std::string table = format_scaling_table({{"sqlite queue", s}});
  CHECK(table.find("of ideal") != std::string::npos);
  CHECK(table.find("sqlite queue") != std::string::npos);
  CHECK(table.find("66.7%") != std::string::npos);  // 2 in 3 s of 1/s
  CHECK(table.find("50.0ms") != std::string::npos);
}
