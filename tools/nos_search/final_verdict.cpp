#include "tools/nos_search/final_verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "support/json_number.h"

namespace nos::search::cli {
namespace {

using nlohmann::json;

// The continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes'
// betacf): converges quickly for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  auto guard = [&](double v) { return std::abs(v) < kTiny ? kTiny : v; };
  double c = 1, d = 1 / guard(1 - (a + b) * x / (a + 1)), h = d;
  for (int m = 1; m <= 500; ++m) {
    double even = m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    double odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    double step = d * c;
    h *= step;
    if (std::abs(step - 1) < kEpsilon) break;
  }
  return h;
}

// The regularized incomplete beta function I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

std::string mean_std(const Contender& c) {
  return c.mean ? fmt::format("{:.4f} ± {:.4f}", *c.mean, c.std.value_or(0)) : std::string("no metric");
}

std::string statistics(const PairedComparison& c) {
  return fmt::format("paired t-test over {} seeds: difference {:+.4f}, 95 % CI [{:+.4f}, {:+.4f}], p = {:.2g}; "
                     "the rule higher on {} of {} seeds",
                     c.pairs, c.mean_difference, *c.ci_low, *c.ci_high, *c.p, c.higher, c.pairs);
}

}  // namespace

double t_two_sided_p(double t, double df) {
  if (std::isnan(t)) return 1;
  if (std::isinf(t)) return 0;
  return std::clamp(incomplete_beta(df / 2, 0.5, df / (df + t * t)), 0.0, 1.0);
}

double t_critical_95(double df) {
  // p falls as t grows: bisect for p = 0.05 (df = 1: 12.706; df = 2: 4.303; large df: 1.960).
  double low = 0, high = 1e4;
  for (int i = 0; i < 200; ++i) {
    double mid = (low + high) / 2;
    (t_two_sided_p(mid, df) > kSignificance ? low : high) = mid;
  }
  return (low + high) / 2;
}

PairedComparison compare_paired(const std::vector<std::optional<double>>& a, const std::vector<std::optional<double>>& b,
                                double std_a, double std_b) {
  PairedComparison c;
  std::vector<double> d;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (!a[i] || !b[i]) continue;
    d.push_back(*a[i] - *b[i]);
    c.higher += *a[i] > *b[i];
    c.lower += *a[i] < *b[i];
  }
  c.pairs = static_cast<int>(d.size());
  if (d.empty()) return c;
  double sum = 0;
  for (double x : d) sum += x;
  c.mean_difference = sum / static_cast<double>(d.size());
  c.noise = std::max(std_a, std_b) / std::sqrt(static_cast<double>(d.size()));
  if (d.size() < 2) return c;
  double squares = 0;
  for (double x : d) squares += (x - c.mean_difference) * (x - c.mean_difference);
  double n = static_cast<double>(d.size());
  c.sd_difference = std::sqrt(squares / (n - 1));
  double se = c.sd_difference / std::sqrt(n);
  if (se == 0) {
    // Every seed differs by the same amount: no spread to test against (the noise check decides).
    c.t = c.mean_difference == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), c.mean_difference);
  } else {
    c.t = c.mean_difference / se;
  }
  c.p = t_two_sided_p(*c.t, n - 1);
  double half = t_critical_95(n - 1) * se;
  c.ci_low = c.mean_difference - half;
  c.ci_high = c.mean_difference + half;
  return c;
}

const char* name(Decision decision) {
  switch (decision) {
    case Decision::RuleBetter: return "rule_better";
    case Decision::BaselineBetter: return "baseline_better";
    case Decision::NoSignificantDifference: return "no_significant_difference";
    case Decision::Undecided: return "undecided";
    case Decision::NoMetric: return "no_metric";
    case Decision::NoBaseline: return "no_baseline";
    case Decision::NoRule: return "no_rule";
  }
  return "no_rule";
}

Verdict decide(const Contender* rule, const Contender* baseline, std::string_view metric) {
  Verdict v;
  if (!rule) {
    v.sentence = "no found rule was trained";
    return v;
  }
  std::string line = fmt::format("best found rule ({}) {} {}", rule->name, metric, mean_std(*rule));
  if (!baseline) {
    v.decision = Decision::NoBaseline;
    v.sentence = line + "; no baseline to compare with";
    return v;
  }
  line += fmt::format(" vs {} {}", baseline->name, mean_std(*baseline));
  if (!rule->mean && !baseline->mean) {
    v.decision = Decision::NoMetric;
    v.sentence = line + ": neither produced a metric";
    return v;
  }
  if (!rule->mean || !baseline->mean) {
    bool rule_wins = rule->mean.has_value();
    v.decision = rule_wins ? Decision::RuleBetter : Decision::BaselineBetter;
    v.sentence = line + fmt::format(": {} is better on this task ({} produced no metric on any seed)",
                                    rule_wins ? "the found rule" : baseline->name,
                                    rule_wins ? baseline->name : "the found rule");
    return v;
  }
  PairedComparison c = compare_paired(rule->metrics, baseline->metrics, rule->std.value_or(0), baseline->std.value_or(0));
  v.comparison = c;
  v.decision = Decision::Undecided;
  if (c.pairs == 0) {
    v.sentence = line + ": not decided (no seed where both produced a metric)";
    return v;
  }
  if (c.pairs == 1) {
    std::string how = c.higher ? fmt::format("higher on it by {:.4f}", c.mean_difference)
                      : c.lower ? fmt::format("lower on it by {:.4f}", -c.mean_difference)
                                : std::string("equal on it");
    v.sentence = line + fmt::format(": not decided: one seed with both metrics (the found rule {}); a verdict needs "
                                    "two seeds or more (--seeds 5 to see small differences)",
                                    how);
    return v;
  }
  bool significant = *c.p < kSignificance && std::abs(c.mean_difference) > c.noise;
  if (significant) {
    v.decision = c.mean_difference > 0 ? Decision::RuleBetter : Decision::BaselineBetter;
    v.sentence = line + fmt::format(": {} is better on this task ({})",
                                    c.mean_difference > 0 ? std::string("the found rule") : baseline->name, statistics(c));
  } else {
    v.decision = Decision::NoSignificantDifference;
    v.sentence = line + fmt::format(": no significant difference on this task ({}{})", statistics(c),
                                    *c.p < kSignificance ? fmt::format("; the difference is within the seeds' noise, "
                                                                       "{:.4f}",
                                                                       c.noise)
                                                         : "");
  }
  return v;
}

json verdict_json(const Verdict& verdict, const Contender* rule, const Contender* baseline) {
  json out = {{"decision", name(verdict.decision)},
              {"rule", rule ? json(rule->name) : json(nullptr)},
              {"baseline", baseline ? json(baseline->name) : json(nullptr)},
              {"test", "paired t-test over the seeds, two-sided, 5 %; and a difference larger than the standard "
                       "error of the noisier optimizer's mean"}};
  const PairedComparison* c = verdict.comparison ? &*verdict.comparison : nullptr;
  out["pairs"] = c ? json(c->pairs) : json(nullptr);
  out["higher"] = c ? json(c->higher) : json(nullptr);
  out["lower"] = c ? json(c->lower) : json(nullptr);
  out["mean_difference"] = c ? json(c->mean_difference) : json(nullptr);
  out["sd_difference"] = c ? json(c->sd_difference) : json(nullptr);
  out["t"] = c ? support::number_or_null(c->t) : json(nullptr);
  out["p"] = c ? support::number_or_null(c->p) : json(nullptr);
  out["ci95"] = c && c->ci_low ? json::array({*c->ci_low, *c->ci_high}) : json(nullptr);
  out["noise"] = c ? json(c->noise) : json(nullptr);
  return out;
}

std::string lr_summary(std::vector<double> lrs) {
  if (lrs.empty()) return "-";
  std::map<double, int> counts;
  for (double lr : lrs) ++counts[lr];
  if (counts.size() == 1) return fmt::format("{:g}", counts.begin()->first);
  std::string out;
  for (const auto& [lr, n] : counts)
    out += fmt::format("{}{:g}{}", out.empty() ? "" : ", ", lr, n > 1 ? fmt::format(" x{}", n) : "");
  return out;
}

double geometric_mean(const std::vector<double>& lrs) {
  if (lrs.empty()) return 0;
  double logs = 0;
  for (double lr : lrs) logs += std::log(lr);
  return std::exp(logs / static_cast<double>(lrs.size()));
}

}  // namespace nos::search::cli
