// Paired statistics over seeds: Student's t distribution (its CDF through the regularized
// incomplete beta function, Numerical Recipes' continued fraction; its quantile by bisection on the
// CDF) and the paired t-test of two optimizers trained on the same seeds, with the number of seeds
// it would take to tell them apart. Torch-free and dependency-free: `final`, the report and the
// search's own paired baselines share it.
#pragma once

#include <optional>
#include <vector>

namespace nos::search {

// The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
double incomplete_beta(double a, double b, double x);

// Student's t with `df` > 0 degrees of freedom: P(T <= t); the two-sided p-value P(|T| >= |t|)
// (1 for NaN, 0 for an infinite t); the quantile q with P(T <= q) = p, p in (0, 1).
double student_t_cdf(double t, double df);
double student_t_two_sided_p(double t, double df);
double student_t_quantile(double p, double df);

// The paired t-test of a against b: the differences a[i] - b[i] over the seeds i where both are
// finite (a missing or non-finite metric leaves its seed out, counted in `excluded`).
struct PairedTest {
  int pairs = 0;                  // seeds with both metrics
  int excluded = 0;               // seeds left out: either metric missing, NaN or infinite
  int higher = 0, lower = 0;      // seeds where a is higher / lower than b
  double mean_difference = 0;     // mean of a - b
  double sd_difference = 0;       // its standard deviation (n - 1); 0 for one pair
  // Only for two pairs or more (one pair has no variance: no test). A zero sd with a nonzero mean
  // gives t = ±inf, p = 0 and the interval [mean, mean]; all differences zero give t = 0, p = 1.
  std::optional<double> t, p;
  std::optional<double> ci_low, ci_high;  // the two-sided 95 % confidence interval of the mean difference
};

PairedTest paired_t_test(const std::vector<std::optional<double>>& a, const std::vector<std::optional<double>>& b);

// How many seeds the paired t-test at 5 % (two-sided) would need to call a mean difference
// `mean` with standard deviation `sd` significant, were both to stay as observed: the smallest
// n >= 2 with |mean| / (sd / sqrt(n)) > t_{0.975, n - 1}. None beyond `cap` (or for a zero mean:
// no number of seeds tells it from nothing).
std::optional<int> seeds_to_tell(double mean, double sd, int cap);

}  // namespace nos::search
