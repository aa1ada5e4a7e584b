// A rule's standing over the funnel's seeds, and its paired difference with each baseline trained
// on the same seeds (issue 22): what `top`, `status` and the report rank and show. A rule reaching
// stage 2 of a per-seed funnel has one result per seed slot; its standing is the mean reward over
// them, the standard error of that mean and the lower bound of its two-sided 95 % confidence
// interval, mean - t_{0.975, n-1} * se (Student's t, paired_stats.h). Torch-free.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/search/paired_stats.h"
#include "controller/search/storage.h"

namespace nos::search {

struct Standing {
  int n = 0;                  // seeds with a reward
  std::optional<double> mean;  // none without a reward
  std::optional<double> se;   // standard error of the mean: sd / sqrt(n), n >= 2
  std::optional<double> lcb;  // mean - t_{0.975, n-1} * se, n >= 2
};

// Over the rewards given (missing ones left out).
Standing standing_of(const std::vector<std::optional<double>>& rewards);
Standing standing_of(const RankedResult& ranked);

// What `top` ranks by after the stage: the mean over seeds, its lower confidence bound (a rule
// with one seed has none and comes after those with one), or the one stored reward the SQL ranks
// by (the best seed's).
enum class RankBy { Mean, Lcb, Reward };
std::optional<RankBy> parse_rank_by(std::string_view text);
// Highest stage first, then the key (highest first, none last), then the mean, then the storage's
// order; stable, so that with one seed per rule every order is the storage's own.
void rank(std::vector<RankedResult>& ranked, RankBy by);

// The best `limit` rules (<= 0: all) as `top` and `export --rank` rank them; `by` defaults to the
// mean over seeds in a per-seed funnel (FunnelConfig::per_seed), else to the stored reward (with
// one seed per rule the mean is that reward: the storage's order, unchanged).
RankBy default_rank_by(bool per_seed);
// Whether the search's stored configuration asks for a per-seed funnel: read leniently from its
// JSON (`top` and `export` read databases whose configuration they need no more of).
bool per_seed_search(const SearchInfo& search);
std::vector<RankedResult> ranked_rules(Storage& storage, SearchId search, int limit, RankBy by);

// A rule against a baseline over the seed slots both trained on: the paired t-test of the rule's
// reward minus the baseline's, and its verdict at 5 % (two-sided): "better", "worse", or "no
// significant difference" (also with fewer than two pairs, where there is no test).
struct VersusBaseline {
  std::string baseline;
  PairedTest test;
  std::string verdict;
};
std::string verdict_of(const PairedTest& test);
// `baselines`: Storage::baseline_results. Only the baselines with a result at the rule's stage.
std::vector<VersusBaseline> versus_baselines(const RankedResult& ranked, const std::vector<Evaluation>& baselines);

// The standing and the paired differences as lines of text (status, the report):
//   "over 3 seeds: mean 0.8188 +- 0.0026 (standard error), lower 95 % bound 0.8076"
//   "vs adam: +0.0123 [+0.0040, +0.0206] p=0.012 over 3 seeds: better"
std::vector<std::string> standing_lines(const RankedResult& ranked, const std::vector<Evaluation>& baselines);

}  // namespace nos::search
