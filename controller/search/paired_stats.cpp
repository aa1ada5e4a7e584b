#include "controller/search/paired_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nos::search {
namespace {

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

bool finite(const std::optional<double>& x) { return x && std::isfinite(*x); }

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  // The fraction converges on the side of x below the mean; the symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
  // covers the other.
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t)) return 1;
  if (std::isinf(t)) return 0;
  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2).
  return std::clamp(incomplete_beta(df / 2, 0.5, df / (df + t * t)), 0.0, 1.0);
}

double student_t_cdf(double t, double df) {
  if (std::isnan(t)) return std::numeric_limits<double>::quiet_NaN();
  double tail = student_t_two_sided_p(t, df) / 2;  // P(T >= |t|)
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0.5) return 0;
  // The CDF rises with t: bisect on it. Widen the bracket until it holds p (df = 1, p = 1e-9: t ~ 3e8).
  double low = -1, high = 1;
  while (student_t_cdf(low, df) > p) low *= 2;
  while (student_t_cdf(high, df) < p) high *= 2;
  for (int i = 0; i < 200 && high - low > 1e-13 * std::max(1.0, std::abs(low)); ++i) {
    double mid = (low + high) / 2;
    (student_t_cdf(mid, df) < p ? low : high) = mid;
  }
  return (low + high) / 2;
}

PairedTest paired_t_test(const std::vector<std::optional<double>>& a, const std::vector<std::optional<double>>& b) {
  PairedTest r;
  std::vector<double> d;
  std::size_t seeds = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < seeds; ++i) {
    if (i >= a.size() || i >= b.size() || !finite(a[i]) || !finite(b[i])) {
      ++r.excluded;
      continue;
    }
    d.push_back(*a[i] - *b[i]);
    r.higher += *a[i] > *b[i];
    r.lower += *a[i] < *b[i];
  }
  r.pairs = static_cast<int>(d.size());
  if (d.empty()) return r;
  double n = static_cast<double>(d.size()), sum = 0;
  for (double x : d) sum += x;
  r.mean_difference = sum / n;
  if (d.size() < 2) return r;
  double squares = 0;
  for (double x : d) squares += (x - r.mean_difference) * (x - r.mean_difference);
  r.sd_difference = std::sqrt(squares / (n - 1));
  double se = r.sd_difference / std::sqrt(n);
  if (se == 0)
    r.t = r.mean_difference == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), r.mean_difference);
  else
    r.t = r.mean_difference / se;
  r.p = student_t_two_sided_p(*r.t, n - 1);
  double half = student_t_quantile(0.975, n - 1) * se;
  r.ci_low = r.mean_difference - half;
  r.ci_high = r.mean_difference + half;
  return r;
}

std::optional<int> seeds_to_tell(double mean, double sd, int cap) {
  if (!std::isfinite(mean) || !std::isfinite(sd) || mean == 0 || cap < 2) return std::nullopt;
  auto significant = [&](int n) {
    if (sd == 0) return true;
    return std::abs(mean) / (sd / std::sqrt(static_cast<double>(n))) > student_t_quantile(0.975, n - 1);
  };
  // The statistic grows with n and the critical value falls: the first n that passes, by bisection.
  if (!significant(cap)) return std::nullopt;
  int low = 1, high = cap;  // significant(high); low fails (or is below 2)
  while (high - low > 1) {
    int mid = low + (high - low) / 2;
    (mid >= 2 && significant(mid) ? high : low) = mid;
  }
  return high;
}

}  // namespace nos::search
