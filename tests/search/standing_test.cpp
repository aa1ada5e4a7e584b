// A rule's standing over seeds and its paired difference with a baseline, against hand
// computations (t quantiles from tables: t_{0.975,2} = 4.302653).
#include <doctest/doctest.h>

#include "controller/search/standing.h"

namespace nos::search {
namespace {

Evaluation at(int seed, double reward, int stage = 2, std::string baseline = "") {
  Evaluation e;
  e.stage = stage;
  e.seed = seed;
  e.reward = reward;
  e.metric = reward;
  e.baseline = std::move(baseline);
  return e;
}

RankedResult rule(std::vector<double> rewards, std::int64_t index = 0) {
  RankedResult r;
  r.candidate.index = index;
  for (std::size_t i = 0; i < rewards.size(); ++i) r.seeds.push_back(at(static_cast<int>(i), rewards[i]));
  r.evaluation = r.seeds.front();
  return r;
}

}  // namespace

TEST_CASE("standing: mean, standard error and lower confidence bound over seeds, by hand") {
  // 0.80, 0.84, 0.82: mean 0.82, sd 0.02, se 0.02 / sqrt(3) = 0.0115470, lcb 0.82 - 4.302653 * se.
  Standing s = standing_of(rule({0.80, 0.84, 0.82}));
  CHECK(s.n == 3);
  CHECK(*s.mean == doctest::Approx(0.82));
  CHECK(*s.se == doctest::Approx(0.0115470).epsilon(1e-5));
  CHECK(*s.lcb == doctest::Approx(0.82 - 4.302653 * 0.0115470).epsilon(1e-6));
  // One seed: its reward, no spread and no bound; a missing reward is left out.
  Standing one = standing_of(std::vector<std::optional<double>>{0.7, std::nullopt});
  CHECK(one.n == 1);
  CHECK(*one.mean == doctest::Approx(0.7));
  CHECK(!one.se);
  CHECK(!one.lcb);
  CHECK(!standing_of(std::vector<std::optional<double>>{}).mean);
}

TEST_CASE("standing: ranking by the mean or its lower bound, after the stage, stable otherwise") {
  // A: mean 0.83 over two far-apart seeds; B: mean 0.82, tight; C: one seed at 0.9 on stage 1.
  std::vector<RankedResult> ranked{rule({0.9}, 2), rule({0.80, 0.86}, 0), rule({0.819, 0.821}, 1)};
  ranked[0].evaluation.stage = ranked[0].seeds[0].stage = 1;
  std::vector<RankedResult> by_mean = ranked;
  rank(by_mean, RankBy::Mean);
  CHECK(by_mean[0].candidate.index == 0);
  CHECK(by_mean[1].candidate.index == 1);
  CHECK(by_mean[2].candidate.index == 2);  // stage 1 after stage 2, whatever its reward
  std::vector<RankedResult> by_lcb = ranked;
  rank(by_lcb, RankBy::Lcb);
  CHECK(by_lcb[0].candidate.index == 1);  // the tight one's bound is higher
  CHECK(by_lcb[1].candidate.index == 0);
  std::vector<RankedResult> as_stored = ranked;
  rank(as_stored, RankBy::Reward);
  CHECK(as_stored[0].candidate.index == 2);
  CHECK(parse_rank_by("lcb") == RankBy::Lcb);
  CHECK(!parse_rank_by("median"));
}

TEST_CASE("standing: a rule against a baseline on the same seeds, by hand") {
  // Differences 0.02, 0.04, 0.03: mean 0.03, sd 0.01, t = 0.03 / (0.01 / sqrt(3)) = 5.196, df 2:
  // p = 0.0351; the interval 0.03 -+ 4.302653 * 0.0057735.
  RankedResult r = rule({0.80, 0.84, 0.82});
  std::vector<Evaluation> baselines{at(0, 0.78, 2, "adam"), at(1, 0.80, 2, "adam"), at(2, 0.79, 2, "adam"),
                                    at(0, 0.5, 3, "adam")};  // another stage: not paired
  std::vector<VersusBaseline> vs = versus_baselines(r, baselines);
  REQUIRE(vs.size() == 1);
  CHECK(vs[0].baseline == "adam");
  CHECK(vs[0].test.pairs == 3);
  CHECK(vs[0].test.mean_difference == doctest::Approx(0.03));
  CHECK(*vs[0].test.p == doctest::Approx(0.0351).epsilon(0.01));
  CHECK(*vs[0].test.ci_low == doctest::Approx(0.03 - 4.302653 * 0.0057735).epsilon(1e-5));
  CHECK(*vs[0].test.ci_high == doctest::Approx(0.03 + 4.302653 * 0.0057735).epsilon(1e-5));
  CHECK(vs[0].verdict == "better");
}

TEST_CASE("standing: two equal optimizers give no significant difference") {
  // A rule that trains exactly as Adam does on every seed: every difference 0, p = 1.
  RankedResult r = rule({0.80, 0.84, 0.82});
  std::vector<Evaluation> adam{at(0, 0.80, 2, "adam"), at(1, 0.84, 2, "adam"), at(2, 0.82, 2, "adam")};
  std::vector<VersusBaseline> vs = versus_baselines(r, adam);
  REQUIRE(vs.size() == 1);
  CHECK(vs[0].test.mean_difference == 0);
  CHECK(*vs[0].test.p == doctest::Approx(1));
  CHECK(vs[0].verdict == "no significant difference");
  // Differences that straddle zero are no difference either; one pair has no test at all.
  CHECK(versus_baselines(rule({0.80, 0.84, 0.82}), {at(0, 0.81, 2, "adam"), at(1, 0.83, 2, "adam"), at(2, 0.82, 2, "adam")})[0]
            .verdict == "no significant difference");
  CHECK(versus_baselines(rule({0.9}), {at(0, 0.5, 2, "adam")})[0].verdict == "no significant difference");
  CHECK(!versus_baselines(rule({0.9}), {at(0, 0.5, 2, "adam")})[0].test.p);
}

}  // namespace nos::search
