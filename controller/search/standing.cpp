#include "controller/search/standing.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nos::search {

Standing standing_of(const std::vector<std::optional<double>>& rewards) {
  Standing out;
  double sum = 0;
  for (const std::optional<double>& r : rewards)
    if (r && std::isfinite(*r)) sum += *r, ++out.n;
  if (out.n == 0) return out;
  const double mean = sum / out.n;
  out.mean = mean;
  if (out.n < 2) return out;
  double squares = 0;
  for (const std::optional<double>& r : rewards)
    if (r && std::isfinite(*r)) squares += (*r - mean) * (*r - mean);
  out.se = std::sqrt(squares / (out.n - 1)) / std::sqrt(static_cast<double>(out.n));
  out.lcb = mean - student_t_quantile(0.975, out.n - 1) * *out.se;
  return out;
}

Standing standing_of(const RankedResult& ranked) {
  std::vector<std::optional<double>> rewards;
  for (const Evaluation& e : ranked.seeds) rewards.push_back(e.reward);
  if (ranked.seeds.empty()) rewards.push_back(ranked.evaluation.reward);
  return standing_of(rewards);
}

std::optional<RankBy> parse_rank_by(std::string_view text) {
  if (text == "mean") return RankBy::Mean;
  if (text == "lcb") return RankBy::Lcb;
  if (text == "reward") return RankBy::Reward;
  return std::nullopt;
}

void rank(std::vector<RankedResult>& ranked, RankBy by) {
  if (by == RankBy::Reward) return;  // the storage's order
  struct Key {
    int stage;
    std::optional<double> key, mean;
  };
  std::vector<std::pair<Key, RankedResult>> keyed;
  for (RankedResult& r : ranked) {
    Standing s = standing_of(r);
    keyed.push_back({{r.evaluation.stage, by == RankBy::Lcb ? s.lcb : s.mean, s.mean}, std::move(r)});
  }
  // Higher first, none last.
  auto before = [](const std::optional<double>& a, const std::optional<double>& b) { return a && (!b || *a > *b); };
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (a.first.stage != b.first.stage) return a.first.stage > b.first.stage;
    if (before(a.first.key, b.first.key) || before(b.first.key, a.first.key)) return before(a.first.key, b.first.key);
    return before(a.first.mean, b.first.mean);
  });
  ranked.clear();
  for (auto& [key, r] : keyed) ranked.push_back(std::move(r));
}

bool per_seed_search(const SearchInfo& search) {
  nlohmann::json config = nlohmann::json::parse(search.config_json, nullptr, false);
  if (!config.is_object() || !config.contains("funnel") || !config["funnel"].is_object()) return false;
  const nlohmann::json& funnel = config["funnel"];
  bool seeds = funnel.contains("seeds") && funnel["seeds"].is_number_integer() && funnel["seeds"].get<std::int64_t>() > 1;
  bool baselines = funnel.contains("baselines") && funnel["baselines"].is_array() && !funnel["baselines"].empty();
  return seeds || baselines;
}

RankBy default_rank_by(bool per_seed) { return per_seed ? RankBy::Mean : RankBy::Reward; }

std::vector<RankedResult> ranked_rules(Storage& storage, SearchId search, int limit, RankBy by) {
  if (by == RankBy::Reward) return storage.top(search, limit);
  std::vector<RankedResult> all = storage.top(search, 0);
  rank(all, by);
  if (limit > 0 && all.size() > static_cast<std::size_t>(limit)) all.resize(static_cast<std::size_t>(limit));
  return all;
}

std::string verdict_of(const PairedTest& test) {
  if (!test.p || *test.p >= 0.05) return "no significant difference";
  return test.mean_difference > 0 ? "better" : "worse";
}

std::vector<VersusBaseline> versus_baselines(const RankedResult& ranked, const std::vector<Evaluation>& baselines) {
  std::vector<VersusBaseline> out;
  const int stage = ranked.evaluation.stage;
  std::set<std::string> names;
  for (const Evaluation& b : baselines)
    if (b.stage == stage) names.insert(b.baseline);
  for (const std::string& name : names) {
    std::vector<std::optional<double>> rule, baseline;
    for (const Evaluation& e : ranked.seeds) {
      std::optional<double> paired;
      for (const Evaluation& b : baselines)
        if (b.baseline == name && b.stage == stage && b.seed == e.seed) paired = b.reward;
      rule.push_back(e.reward);
      baseline.push_back(paired);
    }
    PairedTest test = paired_t_test(rule, baseline);
    out.push_back({name, test, verdict_of(test)});
  }
  return out;
}

std::vector<std::string> standing_lines(const RankedResult& ranked, const std::vector<Evaluation>& baselines) {
  std::vector<std::string> out;
  Standing s = standing_of(ranked);
  if (!s.mean) return out;
  if (s.se)
    out.push_back(fmt::format("over {} seeds: mean {:.4f} +- {:.4f} (standard error), lower 95 % bound {:.4f}", s.n, *s.mean,
                              *s.se, *s.lcb));
  else
    out.push_back(fmt::format("over {} seed: {:.4f}", s.n, *s.mean));
  for (const VersusBaseline& v : versus_baselines(ranked, baselines)) {
    const PairedTest& t = v.test;
    if (t.pairs == 0) continue;
    if (t.p)
      out.push_back(fmt::format("vs {}: {:+.4f} [{:+.4f}, {:+.4f}] p={:.2g} over {} seeds: {}", v.baseline, t.mean_difference,
                                *t.ci_low, *t.ci_high, *t.p, t.pairs, v.verdict));
    else
      out.push_back(fmt::format("vs {}: {:+.4f} on {} seed (no test): {}", v.baseline, t.mean_difference, t.pairs, v.verdict));
  }
  return out;
}

}  // namespace nos::search
