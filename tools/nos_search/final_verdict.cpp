#include "tools/nos_search/final_verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "support/json_number.h"

namespace nos::search::cli {
namespace {

using nlohmann::json;

std::string mean_std(const Contender& c) {
  return c.mean ? fmt::format("{:.4f} ± {:.4f}", *c.mean, c.std.value_or(0)) : std::string("no metric");
}

// The seeds left out, said: a failed run is not a pair.
std::string excluded(const PairedComparison& c) {
  return c.excluded ? fmt::format("; {} seed{} left out (a metric missing or not finite)", c.excluded,
                                  c.excluded == 1 ? "" : "s")
                    : std::string();
}

std::string statistics(const PairedComparison& c) {
  return fmt::format("paired t-test over {} seeds: difference {:+.4f}, 95 % CI [{:+.4f}, {:+.4f}], p = {:.2g}; "
                     "the rule higher on {} of {} seeds{}",
                     c.pairs, c.mean_difference, *c.ci_low, *c.ci_high, *c.p, c.higher, c.pairs, excluded(c));
}

std::string seeds_clause(const PairedComparison& c) {
  if (c.mean_difference == 0) return "; no number of seeds would tell: the mean difference is 0";
  if (!c.seeds_to_tell) return fmt::format("; more than {} seeds would be needed to tell, were the differences to stay "
                                           "as observed", kSeedsCap);
  return fmt::format("; about {} seeds would tell, were the differences to stay as observed (--seeds {})",
                     *c.seeds_to_tell, *c.seeds_to_tell);
}

}  // namespace

PairedComparison compare_paired(const std::vector<std::optional<double>>& a, const std::vector<std::optional<double>>& b,
                                double std_a, double std_b) {
  PairedComparison c{paired_t_test(a, b)};
  if (c.pairs == 0) return c;
  double noisier = std::max(std_a, std_b);
  c.noise = noisier / std::sqrt(static_cast<double>(c.pairs));
  if (c.pairs < 2) return c;
  // Both conditions of the verdict, were the differences to stay as observed: the test's n, and
  // the n at which the noise, max std / sqrt(n), falls below the difference.
  std::optional<int> by_test = seeds_to_tell(c.mean_difference, c.sd_difference, kSeedsCap);
  if (!by_test) return c;
  double ratio = noisier / std::abs(c.mean_difference);
  if (ratio * ratio >= kSeedsCap) return c;
  int by_noise = static_cast<int>(std::floor(ratio * ratio)) + 1;
  c.seeds_to_tell = std::max(*by_test, by_noise);
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

Verdict decide(const Contender* rule, const Contender* baseline, std::string_view metric, std::string_view role) {
  Verdict v;
  if (!rule) {
    v.sentence = "no found rule was trained";
    return v;
  }
  std::string line = fmt::format("{} ({}) {} {}", role, rule->name, metric, mean_std(*rule));
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
    // Not a test: one of them failed on every seed (diverged, out of time).
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
    v.sentence = line + fmt::format(": not decided (no seed where both produced a metric{})", excluded(c));
    return v;
  }
  if (c.pairs == 1) {
    std::string how = c.higher ? fmt::format("higher on it by {:.4f}", c.mean_difference)
                      : c.lower ? fmt::format("lower on it by {:.4f}", -c.mean_difference)
                                : std::string("equal on it");
    v.sentence = line + fmt::format(": not decided: one seed with both metrics (the found rule {}{}); with one seed "
                                    "there is no test: a verdict needs two seeds or more (--seeds 5 to see small "
                                    "differences)",
                                    how, excluded(c));
    return v;
  }
  bool significant = *c.p < kSignificance && std::abs(c.mean_difference) > c.noise;
  if (significant) {
    v.decision = c.mean_difference > 0 ? Decision::RuleBetter : Decision::BaselineBetter;
    v.sentence = line + fmt::format(": {} is better on this task ({})",
                                    c.mean_difference > 0 ? std::string("the found rule") : baseline->name, statistics(c));
  } else {
    v.decision = Decision::NoSignificantDifference;
    std::string within = *c.p < kSignificance
                             ? fmt::format("; the difference is within the seeds' noise, {:.4f}", c.noise)
                             : std::string();
    v.sentence = line + fmt::format(": no significant difference on this task ({}{}{})", statistics(c), within,
                                    seeds_clause(c));
  }
  return v;
}

std::string short_verdict(const Verdict& v) {
  switch (v.decision) {
    case Decision::RuleBetter: return "better";
    case Decision::BaselineBetter: return "worse";
    case Decision::NoSignificantDifference: return "no significant difference";
    case Decision::Undecided:
      return v.comparison && v.comparison->pairs == 1 ? "not decided (1 seed: no test)" : "not decided (no seed with both)";
    case Decision::NoMetric: return "no metric";
    case Decision::NoBaseline: return "no baseline";
    case Decision::NoRule: return "no rule";
  }
  return "-";
}

std::string seeds_to_tell_text(const Verdict& v) {
  if (v.decision != Decision::NoSignificantDifference || !v.comparison) return "-";
  const PairedComparison& c = *v.comparison;
  if (c.mean_difference == 0) return "never (the mean difference is 0)";
  if (!c.seeds_to_tell) return fmt::format("more than {}", kSeedsCap);
  return std::to_string(*c.seeds_to_tell);
}

json verdict_json(const Verdict& verdict, const Contender* rule, const Contender* baseline) {
  json out = {{"decision", name(verdict.decision)},
              {"rule", rule ? json(rule->name) : json(nullptr)},
              {"baseline", baseline ? json(baseline->name) : json(nullptr)},
              {"test", "paired t-test over the seeds, two-sided, 5 %; and a difference larger than the standard "
                       "error of the noisier optimizer's mean"},
              {"short", short_verdict(verdict)},
              {"verdict", verdict.sentence}};
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
  out["excluded"] = c ? json(c->excluded) : json(nullptr);
  bool open = c && c->seeds_to_tell && verdict.decision == Decision::NoSignificantDifference;
  out["seeds_to_tell"] = open ? json(*c->seeds_to_tell) : json(nullptr);
  out["seeds_to_tell_text"] = seeds_to_tell_text(verdict);
  return out;
}

std::vector<PairVerdict> compare_all(const std::vector<Contender>& found, const std::vector<Contender>& baselines,
                                     std::string_view metric) {
  std::vector<PairVerdict> out;
  for (const Contender& rule : found)
    for (const Contender& baseline : baselines)
      out.push_back({rule.name, baseline.name, decide(&rule, &baseline, metric, "found rule")});
  return out;
}

json comparisons_json(const std::vector<PairVerdict>& pairs) {
  json out = json::array();
  for (const PairVerdict& pair : pairs) {
    Contender rule{pair.rule, {}, {}, {}}, baseline{pair.baseline, {}, {}, {}};
    out.push_back(verdict_json(pair.verdict, &rule, &baseline));
  }
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
