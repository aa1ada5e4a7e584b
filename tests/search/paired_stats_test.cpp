// The paired statistics of `final` (controller/search/paired_stats.h) against hand computations:
// Student's t quantiles as the tables give them, p-values from the closed forms of df = 1 and 2,
// a small paired example worked by hand, and the edge cases (no variance, no difference, one seed,
// failed runs).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "controller/search/paired_stats.h"

namespace nos::search {
namespace {

using Metrics = std::vector<std::optional<double>>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST_CASE("Student's t: quantiles as the tables give them (to their 8 digits)") {
  CHECK(student_t_quantile(0.975, 1) == doctest::Approx(12.7062047).epsilon(1e-7));
  CHECK(student_t_quantile(0.975, 2) == doctest::Approx(4.3026527).epsilon(1e-7));
  CHECK(student_t_quantile(0.975, 4) == doctest::Approx(2.7764451).epsilon(1e-7));
  CHECK(student_t_quantile(0.975, 9) == doctest::Approx(2.2621572).epsilon(1e-7));
  CHECK(student_t_quantile(0.95, 9) == doctest::Approx(1.8331129).epsilon(1e-7));
  CHECK(student_t_quantile(0.975, 1e6) == doctest::Approx(1.959966).epsilon(1e-6));
  CHECK(student_t_quantile(0.025, 4) == doctest::Approx(-2.7764451).epsilon(1e-7));
  CHECK(student_t_quantile(0.5, 3) == 0);
  CHECK(student_t_quantile(1e-9, 1) == doctest::Approx(-1 / std::tan(M_PI * 1e-9)).epsilon(1e-6));  // Cauchy
  CHECK(std::isnan(student_t_quantile(0, 3)));
  CHECK(std::isnan(student_t_quantile(1, 3)));
}

TEST_CASE("Student's t: the CDF and two-sided p against the closed forms of df = 1 and df = 2") {
  for (double t : {-30.0, -2.0, -0.3, 0.0, 0.7, 3.4641016, 50.0}) {
    CAPTURE(t);
    CHECK(student_t_cdf(t, 1) == doctest::Approx(0.5 + std::atan(t) / M_PI).epsilon(1e-12));
    CHECK(student_t_cdf(t, 2) == doctest::Approx(0.5 + t / (2 * std::sqrt(2 + t * t))).epsilon(1e-12));
    CHECK(student_t_two_sided_p(t, 2) == doctest::Approx(1 - std::abs(t) / std::sqrt(2 + t * t)).epsilon(1e-12));
  }
  CHECK(student_t_two_sided_p(2.7764451, 4) == doctest::Approx(0.05).epsilon(1e-7));
  CHECK(student_t_two_sided_p(0, 3) == 1);
  CHECK(student_t_two_sided_p(INFINITY, 3) == 0);
  CHECK(student_t_two_sided_p(kNaN, 3) == 1);
  CHECK(incomplete_beta(2, 3, 0.4) == doctest::Approx(0.5248).epsilon(1e-12));  // 1 - 0.6^4 - 4 * 0.4 * 0.6^3
}

TEST_CASE("paired_t_test: a small example worked by hand") {
  // Differences 0.01, 0.02, 0.03: mean 0.02, sd 0.01, se 0.01 / sqrt(3), t = 2 sqrt(3) = 3.4641 on
  // 2 degrees of freedom: p = 1 - t / sqrt(2 + t^2) = 1 - sqrt(12 / 14) = 0.0741799.
  PairedTest r = paired_t_test({0.86, 0.87, 0.88}, {0.85, 0.85, 0.85});
  CHECK(r.pairs == 3);
  CHECK(r.excluded == 0);
  CHECK(r.higher == 3);
  CHECK(r.lower == 0);
  CHECK(r.mean_difference == doctest::Approx(0.02));
  CHECK(r.sd_difference == doctest::Approx(0.01));
  CHECK(*r.t == doctest::Approx(2 * std::sqrt(3.0)));
  CHECK(*r.p == doctest::Approx(1 - std::sqrt(12.0 / 14.0)).epsilon(1e-9));
  CHECK(*r.p == doctest::Approx(0.0741799).epsilon(1e-6));
  CHECK(*r.ci_low == doctest::Approx(0.02 - 4.3026527 * 0.01 / std::sqrt(3.0)).epsilon(1e-8));
  CHECK(*r.ci_high == doctest::Approx(0.02 + 4.3026527 * 0.01 / std::sqrt(3.0)).epsilon(1e-8));
  // The same with b - a: the sign turns, nothing else.
  PairedTest back = paired_t_test({0.85, 0.85, 0.85}, {0.86, 0.87, 0.88});
  CHECK(*back.t == doctest::Approx(-*r.t));
  CHECK(*back.p == doctest::Approx(*r.p));
  CHECK(back.lower == 3);
}

TEST_CASE("paired_t_test: no variance, no difference, one seed, failed runs") {
  // Every seed 0.003 higher: no spread to test against; the difference is certain.
  PairedTest constant = paired_t_test({0.803, 0.813, 0.793}, {0.8, 0.81, 0.79});
  CHECK(constant.sd_difference == doctest::Approx(0).epsilon(1e-12));
  REQUIRE(constant.p);
  CHECK(*constant.p < 1e-6);
  CHECK(*constant.ci_low == doctest::Approx(0.003).epsilon(1e-6));
  PairedTest exact = paired_t_test({0.5, 0.25}, {0.25, 0.0});  // exactly representable: sd exactly 0
  CHECK(std::isinf(*exact.t));
  CHECK(*exact.p == 0);
  CHECK(*exact.ci_low == 0.25);
  CHECK(*exact.ci_high == 0.25);
  // Equal on every seed: t = 0, p = 1, the interval [0, 0].
  PairedTest equal = paired_t_test({0.8, 0.9, 0.7}, {0.8, 0.9, 0.7});
  CHECK(*equal.t == 0);
  CHECK(*equal.p == 1);
  CHECK(*equal.ci_low == 0);
  CHECK(*equal.ci_high == 0);
  CHECK(equal.higher + equal.lower == 0);
  // One seed: a difference, no test.
  PairedTest one = paired_t_test({0.8549}, {0.8546});
  CHECK(one.pairs == 1);
  CHECK(one.mean_difference == doctest::Approx(0.0003));
  CHECK_FALSE(one.t);
  CHECK_FALSE(one.p);
  CHECK_FALSE(one.ci_low);
  // A missing, a NaN and an infinite metric leave their seeds out, counted.
  PairedTest failed = paired_t_test({0.86, std::nullopt, kNaN, 0.87, 0.88, 0.9}, {0.85, 0.85, 0.85, INFINITY, 0.85, 0.85});
  CHECK(failed.pairs == 3);
  CHECK(failed.excluded == 3);
  CHECK(failed.mean_difference == doctest::Approx((0.01 + 0.03 + 0.05) / 3));
  CHECK(paired_t_test({0.8, 0.9}, {0.7}).excluded == 1);  // a seed one of them lacks
  PairedTest none = paired_t_test({std::nullopt}, {0.9});
  CHECK(none.pairs == 0);
  CHECK(none.excluded == 1);
  CHECK_FALSE(none.p);
}

TEST_CASE("seeds_to_tell: the n at which the observed difference would become significant") {
  // mean = sd: sqrt(n) > t_{0.975, n-1}: n = 6 gives 2.449 < 2.571, n = 7 gives 2.646 > 2.447.
  CHECK(seeds_to_tell(0.01, 0.01, 1000) == 7);
  CHECK(seeds_to_tell(-0.01, 0.01, 1000) == 7);
  CHECK(seeds_to_tell(0.01, 0.01, 6) == std::nullopt);  // beyond the cap
  CHECK(seeds_to_tell(0.01, 0.01, 7) == 7);
  CHECK(seeds_to_tell(0.003, 0.0, 1000) == 2);  // no spread: two seeds already tell
  CHECK(seeds_to_tell(0.0, 0.01, 1000) == std::nullopt);  // no difference: no number of seeds
  // A tenth of a standard deviation: about (1.96 / 0.1)^2 = 384, plus the t's heavier tails.
  std::optional<int> many = seeds_to_tell(0.001, 0.01, 1000);
  REQUIRE(many);
  CHECK(*many >= 385);
  CHECK(*many <= 390);
  double n = *many;
  CHECK(0.001 / (0.01 / std::sqrt(n)) > student_t_quantile(0.975, n - 1));
  CHECK(0.001 / (0.01 / std::sqrt(n - 1)) <= student_t_quantile(0.975, n - 2));
  CHECK(seeds_to_tell(0.001, 0.1, 1000) == std::nullopt);
}

}  // namespace
}  // namespace nos::search
