// `nos-search final`'s verdict: whether the best found rule beats the best baseline, decided on
// evidence. Both trained on the same seeds (each seed: the same initial weights, data order and
// split), so the comparison is paired by seed: a two-sided paired t-test at 5 % on the per-seed
// differences (controller/search/paired_stats.h), and a difference larger than the seeds' noise. One
// seed decides nothing; no significant difference says how many seeds would tell. Also the
// learning rates' summary (the rates themselves: a median of log-spaced rates means nothing).
// Torch-free: `report` shows the stored verdicts, and the tests check the statistics alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/search/paired_stats.h"

namespace nos::search::cli {

inline constexpr double kSignificance = 0.05;  // two-sided
inline constexpr int kSeedsCap = 1000;          // seeds_to_tell looks no further

// The paired t-test of rule - baseline over the seeds where both have a finite metric
// (paired_stats.h), and what the verdict adds to it.
struct PairedComparison : PairedTest {
  // The standard error of the noisier optimizer's mean over the seeds: a difference within it is
  // noise however small p is (two seeds that differ by the same two validation examples).
  double noise = 0;
  // Two pairs or more: the seeds at which the test would call the observed difference significant
  // and above the noise, were the differences' mean and sd to stay as observed; none for a zero
  // mean or beyond kSeedsCap.
  std::optional<int> seeds_to_tell;
};

// a[i], b[i]: the metric of two optimizers at seed i (none when the run produced none). `std_a`,
// `std_b`: their standard deviations over the seeds.
PairedComparison compare_paired(const std::vector<std::optional<double>>& a, const std::vector<std::optional<double>>& b,
                                double std_a, double std_b);

enum class Decision { RuleBetter, BaselineBetter, NoSignificantDifference, Undecided, NoMetric, NoBaseline, NoRule };
const char* name(Decision decision);  // "rule_better", "baseline_better", ... as stored in the JSON

// What the verdict weighs: one optimizer's name, mean, std and per-seed metrics.
struct Contender {
  std::string name;
  std::optional<double> mean, std;
  std::vector<std::optional<double>> metrics;
};

struct Verdict {
  Decision decision = Decision::NoRule;
  std::string sentence;  // e.g. "best found rule (rank 1) val_acc 0.8420 ± 0.0031 vs adam ...: ..."
  std::optional<PairedComparison> comparison;
};

// A found rule against a baseline (either may be absent); the sentence starts with `role` ("best
// found rule (rank 1) val_acc ...").
Verdict decide(const Contender* rule, const Contender* baseline, std::string_view metric,
               std::string_view role = "best found rule");

// The verdict in a table's cell: "better", "worse" (the rule against the baseline), "no significant
// difference", "not decided (1 seed)", "no seed with both", "no metric".
std::string short_verdict(const Verdict& verdict);
// The seeds it would take to tell, for a comparison without a significant difference: "7",
// "more than 1000", "never (the mean difference is 0)"; "-" where decided or not computable.
std::string seeds_to_tell_text(const Verdict& verdict);

// Every found rule against every baseline, each paired by seed (the sentences start "found rule").
struct PairVerdict {
  std::string rule, baseline;
  Verdict verdict;
};
std::vector<PairVerdict> compare_all(const std::vector<Contender>& found, const std::vector<Contender>& baselines,
                                     std::string_view metric);

// The verdict's object in final's JSON: {decision, rule, baseline, test, pairs, excluded, higher,
// lower, mean_difference, sd_difference, t, p, ci95, noise, seeds_to_tell, seeds_to_tell_text}
// (the statistics null where not computed).
nlohmann::json verdict_json(const Verdict& verdict, const Contender* rule, const Contender* baseline);
// compare_all's list as final's "comparisons": verdict_json's objects, with "verdict" (the sentence).
nlohmann::json comparisons_json(const std::vector<PairVerdict>& pairs);

// The rates the sweep chose over the seeds, each distinct rate once, ascending, a repeated one with
// its count when they differ: {0.1, 1} -> "0.1, 1"; {0.01, 0.01, 0.1} -> "0.01 x2, 0.1";
// {0.01, 0.01} -> "0.01"; none -> "-".
std::string lr_summary(std::vector<double> lrs);
// exp(mean(log lr)): the middle of log-spaced rates; 0 for none.
double geometric_mean(const std::vector<double>& lrs);

}  // namespace nos::search::cli
