// `nos-search final`'s verdict: whether the best found rule beats the best baseline, decided on
// evidence. Both trained on the same seeds (each seed: the same initial weights, data order and
// split), so the comparison is paired by seed: a two-sided paired t-test at 5 % on the per-seed
// differences, and a difference larger than the seeds' noise. One seed decides nothing. Also the
// learning rates' summary (the rates themselves: a median of log-spaced rates means nothing).
// Torch-free: `report` shows the stored verdicts, and the tests check the statistics alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nos::search::cli {

inline constexpr double kSignificance = 0.05;  // two-sided

// The per-seed differences rule - baseline over the seeds where both have a metric.
struct PairedComparison {
  int pairs = 0;
  int higher = 0, lower = 0;  // seeds where the rule's metric is higher / lower than the baseline's
  double mean_difference = 0, sd_difference = 0;  // sd: n - 1 (0 for one pair)
  std::optional<double> t, p;                      // the paired t-test; only for two pairs or more
  std::optional<double> ci_low, ci_high;           // 95 % confidence interval of mean_difference
  // The standard error of the noisier optimizer's mean over the seeds: a difference within it is
  // noise however small p is (two seeds that differ by the same two validation examples).
  double noise = 0;
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

// The best found rule against the best baseline (either may be absent).
Verdict decide(const Contender* rule, const Contender* baseline, std::string_view metric);

// The verdict's object in final's JSON: {decision, rule, baseline, test, pairs, higher, lower,
// mean_difference, sd_difference, t, p, ci95, noise} (the statistics null where not computed).
nlohmann::json verdict_json(const Verdict& verdict, const Contender* rule, const Contender* baseline);

// Two-sided p-value of Student's t with `df` degrees of freedom, and its 97.5 % quantile.
double t_two_sided_p(double t, double df);
double t_critical_95(double df);

// The rates the sweep chose over the seeds, each distinct rate once, ascending, a repeated one with
// its count when they differ: {0.1, 1} -> "0.1, 1"; {0.01, 0.01, 0.1} -> "0.01 x2, 0.1";
// {0.01, 0.01} -> "0.01"; none -> "-".
std::string lr_summary(std::vector<double> lrs);
// exp(mean(log lr)): the middle of log-spaced rates; 0 for none.
double geometric_mean(const std::vector<double>& lrs);

}  // namespace nos::search::cli
