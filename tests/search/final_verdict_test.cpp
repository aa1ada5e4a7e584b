// nos-search final's torch-free parts: the verdict's statistics (a paired t-test over the seeds;
// Student's t itself in paired_stats_test.cpp), its decisions, the seeds it would take to tell,
// the learning rates' summary, and the numbered `final:N` artifacts that keep every run.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "tools/nos_search/final_artifacts.h"
#include "tools/nos_search/final_verdict.h"
#include "tests/search/temp_dir.h"

namespace nos::search::cli {
namespace {

using testing::TempDir;
using Metrics = std::vector<std::optional<double>>;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("compare_paired: per-seed differences, seeds without a metric left out") {
  Metrics rule = {0.86, 0.87, std::nullopt, 0.88}, adam = {0.85, 0.855, 0.9, 0.89};
  PairedComparison c = compare_paired(rule, adam, 0.01, 0.02);
  CHECK(c.pairs == 3);
  CHECK(c.higher == 2);
  CHECK(c.lower == 1);
  CHECK(c.mean_difference == doctest::Approx((0.01 + 0.015 - 0.01) / 3));
  double sd = std::sqrt((std::pow(0.01 - 0.005, 2) + std::pow(0.015 - 0.005, 2) + std::pow(-0.01 - 0.005, 2)) / 2);
  CHECK(c.sd_difference == doctest::Approx(sd));
  CHECK(*c.t == doctest::Approx(0.005 / (sd / std::sqrt(3.0))));
  CHECK(*c.ci_low == doctest::Approx(0.005 - 4.303 * sd / std::sqrt(3.0)).epsilon(1e-3));
  CHECK(c.noise == doctest::Approx(0.02 / std::sqrt(3.0)));
  CHECK_FALSE(compare_paired({0.9}, {0.8}, 0, 0).p);  // one pair: no test
}

TEST_CASE("decide: one seed decides nothing, a consistent difference over seeds does, noise does not") {
  // The trial's case: 0.8549 against 0.8546 on one seed, std 0.
  Contender rule{"rank 1", 0.8549, 0.0, {0.8549}}, adam{"adam", 0.8546, 0.0, {0.8546}};
  Verdict one = decide(&rule, &adam, "val_acc");
  CHECK(one.decision == Decision::Undecided);
  CHECK_FALSE(contains(one.sentence, "better"));
  CHECK(contains(one.sentence, "not decided: one seed with both metrics (the found rule higher on it by 0.0003)"));

  // Five seeds, the rule 0.01 above Adam on each (with some spread): better, by the test.
  Contender r5{"rank 1", 0.870, 0.0158, {0.85, 0.861, 0.869, 0.882, 0.888}};
  Contender a5{"adam", 0.8598, 0.0158, {0.84, 0.85, 0.86, 0.871, 0.878}};
  Verdict better = decide(&r5, &a5, "val_acc");
  CHECK(better.decision == Decision::RuleBetter);
  CHECK(contains(better.sentence, ": the found rule is better on this task (paired t-test over 5 seeds: difference +0.0102"));
  CHECK(contains(better.sentence, "the rule higher on 5 of 5 seeds"));
  Verdict worse = decide(&a5, &r5, "val_acc");  // the same, the other way round
  CHECK(worse.decision == Decision::BaselineBetter);

  // Higher on some seeds, lower on others: no significant difference.
  Contender mixed{"rank 1", 0.86, 0.01, {0.85, 0.87, 0.86}}, adam3{"adam", 0.86, 0.01, {0.86, 0.86, 0.86}};
  Verdict none = decide(&mixed, &adam3, "val_acc");
  CHECK(none.decision == Decision::NoSignificantDifference);
  CHECK(contains(none.sentence, ": no significant difference on this task (paired t-test over 3 seeds"));

  // The same tiny difference on both seeds: p = 0, but it is within the seeds' noise.
  Contender r2{"rank 1", 0.8553, 0.01, {0.8453, 0.8653}}, a2{"adam", 0.855, 0.01, {0.845, 0.865}};
  Verdict noise = decide(&r2, &a2, "val_acc");
  CHECK(noise.decision == Decision::NoSignificantDifference);
  CHECK(contains(noise.sentence, "the difference is within the seeds' noise"));

  CHECK(decide(&rule, nullptr, "val_acc").decision == Decision::NoBaseline);
  CHECK(decide(nullptr, &adam, "val_acc").sentence == "no found rule was trained");
  Contender diverged{"rank 1", std::nullopt, std::nullopt, {std::nullopt, std::nullopt}};
  CHECK(decide(&diverged, &adam, "val_acc").decision == Decision::BaselineBetter);

  nlohmann::json j = verdict_json(better, &r5, &a5);
  CHECK(j["decision"] == "rule_better");
  CHECK(j["pairs"] == 5);
  CHECK(j["p"].get<double>() < 0.05);
  CHECK(j["ci95"].size() == 2);
  CHECK(verdict_json(one, &rule, &adam)["p"].is_null());
}

TEST_CASE("decide: the issue's 0.008 lead at less than one standard deviation is no significant difference") {
  // 5 seeds, the rule 0.8484 against Adam's 0.8406 (std 0.0137): differences 0.015, 0.025, -0.002,
  // 0.002, -0.001: mean 0.0078, sd 0.01178, t = 1.48 on 4 df, p = 0.21.
  Contender rule{"rank 3", 0.8484, 0.0080, {0.84, 0.855, 0.838, 0.852, 0.857}};
  Contender adam{"adam", 0.8406, 0.0137, {0.825, 0.83, 0.84, 0.85, 0.858}};
  Verdict v = decide(&rule, &adam, "val_acc");
  CHECK(v.decision == Decision::NoSignificantDifference);
  CHECK_FALSE(contains(v.sentence, "is better"));
  REQUIRE(v.comparison);
  CHECK(v.comparison->mean_difference == doctest::Approx(0.0078));
  CHECK(*v.comparison->t == doctest::Approx(0.0078 / (0.011778 / std::sqrt(5.0))).epsilon(1e-4));
  CHECK(*v.comparison->p == doctest::Approx(0.2128).epsilon(2e-3));
  // d / sd = 0.662: sqrt(12) 0.662 = 2.293 > t_{0.975, 11} = 2.201, sqrt(11) 0.662 = 2.196 < 2.228.
  CHECK(v.comparison->seeds_to_tell == 12);
  CHECK(seeds_to_tell_text(v) == "12");
  CHECK(short_verdict(v) == "no significant difference");
  CHECK(contains(v.sentence, "; about 12 seeds would tell, were the differences to stay as observed (--seeds 12)"));
  nlohmann::json j = verdict_json(v, &rule, &adam);
  CHECK(j["seeds_to_tell"] == 12);
  CHECK(j["short"] == "no significant difference");
  CHECK(j["excluded"] == 0);
}

TEST_CASE("decide: two equal optimizers, a failed seed, and seeds that would never tell") {
  Contender a{"adam (again)", 0.85, 0.01, {0.84, 0.85, 0.86}}, b{"adam", 0.85, 0.01, {0.84, 0.85, 0.86}};
  Verdict same = decide(&a, &b, "val_acc", "found rule");
  CHECK(same.decision == Decision::NoSignificantDifference);
  CHECK(contains(same.sentence, "found rule (adam (again)) val_acc 0.8500 ± 0.0100 vs adam"));
  CHECK(*same.comparison->p == 1);
  CHECK(seeds_to_tell_text(same) == "never (the mean difference is 0)");
  CHECK(contains(same.sentence, "no number of seeds would tell: the mean difference is 0"));
  CHECK(verdict_json(same, &a, &b)["seeds_to_tell"].is_null());

  // A seed where the rule diverged (NaN) is left out, and said so.
  Contender nan_seed{"rank 1", 0.86, 0.01, {0.85, std::nan(""), 0.87, 0.86}};
  Contender adam4{"adam", 0.86, 0.01, {0.86, 0.85, 0.86, 0.86}};
  Verdict left = decide(&nan_seed, &adam4, "val_acc");
  CHECK(left.comparison->pairs == 3);
  CHECK(left.comparison->excluded == 1);
  CHECK(contains(left.sentence, "; 1 seed left out (a metric missing or not finite)"));

  // A tiny difference in much noise: beyond the cap.
  Contender close{"rank 1", 0.8501, 0.05, {0.80, 0.9002, 0.8501}}, wide{"adam", 0.85, 0.05, {0.8002, 0.90, 0.85}};
  Verdict far = decide(&close, &wide, "val_acc");
  CHECK(far.decision == Decision::NoSignificantDifference);
  CHECK(seeds_to_tell_text(far) == "more than 1000");
  CHECK(contains(far.sentence, "more than 1000 seeds would be needed to tell"));

  // Decided comparisons need no more seeds; one seed has no test.
  Contender r5{"rank 1", 0.870, 0.0158, {0.85, 0.861, 0.869, 0.882, 0.888}};
  Contender a5{"adam", 0.8598, 0.0158, {0.84, 0.85, 0.86, 0.871, 0.878}};
  Verdict better = decide(&r5, &a5, "val_acc");
  CHECK(short_verdict(better) == "better");
  CHECK(short_verdict(decide(&a5, &r5, "val_acc")) == "worse");
  CHECK(seeds_to_tell_text(better) == "-");
  Contender one{"rank 1", 0.8549, 0.0, {0.8549}}, adam1{"adam", 0.8546, 0.0, {0.8546}};
  Verdict single = decide(&one, &adam1, "val_acc");
  CHECK(short_verdict(single) == "not decided (1 seed: no test)");
  CHECK(contains(single.sentence, "with one seed there is no test"));
}

TEST_CASE("lr_summary: the rates themselves, not a median of log-spaced rates") {
  CHECK(lr_summary({0.1, 1}) == "0.1, 1");  // not 0.55
  CHECK(lr_summary({1, 0.1, 0.1}) == "0.1 x2, 1");
  CHECK(lr_summary({0.01, 0.01, 0.01}) == "0.01");
  CHECK(lr_summary({}) == "-");
  CHECK(geometric_mean({0.1, 1}) == doctest::Approx(std::sqrt(0.1)));
  CHECK(geometric_mean({0.01, 0.01}) == doctest::Approx(0.01));
}

TEST_CASE("final artifacts: numbered, never replaced, an older unnumbered 'final' read as the oldest") {
  CHECK(final_number("final") == 0);
  CHECK(final_number("final:1") == 1);
  CHECK(final_number("final:12") == 12);
  CHECK_FALSE(final_number("final:table"));
  CHECK_FALSE(final_number("final:01"));
  CHECK_FALSE(final_number("final:"));
  CHECK_FALSE(final_number("baseline:adam"));
  CHECK(final_keys({"baseline:adam", "final:10", "final", "final:9", "final:table"}) ==
        std::vector<std::string>{"final", "final:9", "final:10"});

  TempDir dir;
  auto storage = open_storage(dir.file("s.db"), OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  storage->put_artifact(id, "final", R"({"old": true})");
  CHECK(store_final(*storage, id, {{"run", 1}}) == "final:1");
  CHECK(store_final(*storage, id, {{"run", 2}, {"name", std::string("a\xff\xfe" "b")}}) == "final:2");
  CHECK(nlohmann::json::parse(*storage->artifact(id, "final")) == nlohmann::json{{"old", true}});
  nlohmann::json first = nlohmann::json::parse(*storage->artifact(id, "final:1"));
  CHECK(first["run"] == 1);
  CHECK(first["key"] == "final:1");
  CHECK(first["number"] == 1);
  nlohmann::json second = nlohmann::json::parse(*storage->artifact(id, "final:2"));
  CHECK(second["run"] == 2);
  CHECK(second["name"] == "a\xef\xbf\xbd\xef\xbf\xbd" "b");  // invalid UTF-8 replaced, not thrown on
  // Numbered after the highest stored one, gaps and all.
  storage->put_artifact(id, "final:4", "{}");
  CHECK(store_final(*storage, id, {{"run", 3}}) == "final:5");
}

}  // namespace
}  // namespace nos::search::cli
