// The accuracy bounds documented at the top of dsl/semantics.h, measured against double precision
// (accurate far below a float ulp) over millions of inputs, and the C99 special values.
// The documented bounds come from exhaustive runs over all floats; these samples must stay within.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "dsl/semantics.h"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Error of `got` in units of the last place of the float32 result nearest to `exact`
// (denormal results measured in the denormal ulp 2^-149). Infinite when the class is wrong.
double ulp_error(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : INFINITY;
  constexpr double kMax = 3.4028235677973366e38;  // results at or above this round to infinity
  if (std::fabs(exact) >= kMax) return std::isinf(got) && (got > 0) == (exact > 0) ? 0 : INFINITY;
  if (!std::isfinite(got)) return std::fabs(exact) > 3.4028234663852886e38 ? std::fabs(kMax - exact) / 0x1p104 : INFINITY;
  double a = std::fabs(exact);
  double ulp = a < 0x1p-126 ? 0x1p-149 : std::ldexp(1.0, std::ilogb(a) - 23);
  return std::fabs(static_cast<double>(got) - exact) / ulp;
}

float from_bits(std::uint32_t u) { return std::bit_cast<float>(u); }

struct Worst {
  double ulp = 0;
  double at = 0, at2 = 0;
  void add(double e, double x, double y = 0) {
    if (e > ulp) ulp = e, at = x, at2 = y;
  }
};

}  // namespace

TEST_CASE("math: exp is within 0.66 ulp (normal results) and 0.8 ulp (denormal results)") {
  Worst normal, denormal;
  // Every 61st bit pattern of the inputs whose result is neither 0 nor infinity.
  auto check = [&](float x) {
    double exact = std::exp(static_cast<double>(x));
    double e = ulp_error(nos_expf_impl(x), exact);
    (exact < 0x1p-126 ? denormal : normal).add(e, x);
  };
  for (std::uint64_t u = 0; u < (1ull << 32); u += 61) {
    float x = from_bits(static_cast<std::uint32_t>(u));
    if (x > -104.0f && x < 89.0f) check(x);
  }
  // Every float near overflow and in the denormal-result range.
  for (float x = 88.0f; x < 89.0f; x = std::nextafter(x, 89.0f)) check(x);
  for (float x = -104.0f; x < -87.0f; x = std::nextafter(x, 0.0f)) check(x);
  MESSAGE("exp: max ", normal.ulp, " ulp at ", normal.at, ", denormal results ", denormal.ulp, " ulp at ", denormal.at);
  CHECK(normal.ulp <= 0.66);
  CHECK(denormal.ulp <= 0.8);
}

TEST_CASE("math: exp special values") {
  CHECK(nos_expf_impl(0.0f) == 1.0f);
  CHECK(nos_expf_impl(-0.0f) == 1.0f);
  CHECK(nos_expf_impl(1e-45f) == 1.0f);
  CHECK(nos_expf_impl(-1e-45f) == 1.0f);  // 1 - 1e-45 rounds to 1
  CHECK(nos_expf_impl(kInf) == kInf);
  CHECK(nos_expf_impl(-kInf) == 0.0f);
  CHECK(std::isnan(nos_expf_impl(kNaN)));
  CHECK(nos_expf_impl(88.72283f) == std::exp(88.72283f));   // largest finite result
  CHECK(nos_expf_impl(88.7229f) == kInf);                    // overflow
  CHECK(nos_expf_impl(-103.0f) == 1e-45f);                   // smallest denormal
  CHECK(nos_expf_impl(-104.0f) == 0.0f);                     // underflow
  CHECK(nos_expf_impl(1.0f) == static_cast<float>(M_E));
}

TEST_CASE("math: log is within 0.84 ulp over positive floats, denormals included") {
  Worst worst;
  for (std::uint64_t u = 1; u < 0x7f800000u; u += 53) {
    float x = from_bits(static_cast<std::uint32_t>(u));
    worst.add(ulp_error(nos_logf_impl(x), std::log(static_cast<double>(x))), x);
  }
  // Dense around 1, where log is small and the reduction matters most.
  for (float x = 0.99f; x < 1.01f; x = std::nextafter(x, 2.0f))
    worst.add(ulp_error(nos_logf_impl(x), std::log(static_cast<double>(x))), x);
  MESSAGE("log: max ", worst.ulp, " ulp at ", worst.at);
  CHECK(worst.ulp <= 0.84);
}

TEST_CASE("math: log special values") {
  CHECK(nos_logf_impl(1.0f) == 0.0f);
  CHECK(nos_logf_impl(0.0f) == -kInf);
  CHECK(nos_logf_impl(-0.0f) == -kInf);
  CHECK(nos_logf_impl(kInf) == kInf);
  CHECK(std::isnan(nos_logf_impl(-1.0f)));
  CHECK(std::isnan(nos_logf_impl(-kInf)));
  CHECK(std::isnan(nos_logf_impl(kNaN)));
  CHECK(nos_logf_impl(1e-45f) == static_cast<float>(std::log(static_cast<double>(1e-45f))));
  CHECK(nos_log(-1.0f) == 0.0f);  // log|x|
  CHECK(nos_log(-0.0f) == -kInf);
}

TEST_CASE("math: pow(a, y) is within 0.51 ulp (normal and denormal results) for |y log2 a| <= 150") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint32_t> bits(1, 0x7f7fffff);
  std::uniform_real_distribution<double> exponent(-150.0, 150.0);
  std::uniform_real_distribution<double> near_one(-0x1p-10, 0x1p-10);
  Worst normal, denormal;
  auto check = [&](float a, double target) {
    double l = std::log2(static_cast<double>(a));
    if (l == 0) return;
    float y = static_cast<float>(target / l);
    double exact = std::pow(static_cast<double>(a), static_cast<double>(y));
    (exact < 0x1p-126 ? denormal : normal).add(ulp_error(nos_powf_impl(a, y), exact), a, y);
  };
  // Bases over every binade, then bases within 2^-10 of 1 with exponents up to ~2^17.
  for (int k = 0; k < 3000000; ++k) check(from_bits(bits(rng)), exponent(rng));
  for (int k = 0; k < 1000000; ++k) check(static_cast<float>(1.0 + near_one(rng)), exponent(rng));
  MESSAGE("pow: max ", normal.ulp, " ulp at (", normal.at, ", ", normal.at2, "), denormal results ", denormal.ulp, " ulp");
  CHECK(normal.ulp <= 0.51);
  CHECK(denormal.ulp <= 0.51);
}

TEST_CASE("math: pow special values (C99 Annex F for a >= 0)") {
  CHECK(nos_powf_impl(2.0f, 10.0f) == 1024.0f);
  CHECK(nos_powf_impl(4.0f, 0.5f) == 2.0f);
  CHECK(nos_powf_impl(2.0f, -149.0f) == 1e-45f);
  CHECK(nos_powf_impl(2.0f, 128.0f) == kInf);
  CHECK(nos_powf_impl(kNaN, 0.0f) == 1.0f);
  CHECK(nos_powf_impl(1.0f, kNaN) == 1.0f);
  CHECK(nos_powf_impl(1.0f, kInf) == 1.0f);
  CHECK(std::isnan(nos_powf_impl(kNaN, 1.0f)));
  CHECK(std::isnan(nos_powf_impl(2.0f, kNaN)));
  CHECK(nos_powf_impl(0.0f, 3.0f) == 0.0f);
  CHECK(nos_powf_impl(0.0f, -3.0f) == kInf);
  CHECK(nos_powf_impl(kInf, 2.0f) == kInf);
  CHECK(nos_powf_impl(kInf, -2.0f) == 0.0f);
  CHECK(nos_powf_impl(0.5f, kInf) == 0.0f);
  CHECK(nos_powf_impl(0.5f, -kInf) == kInf);
  CHECK(nos_powf_impl(2.0f, kInf) == kInf);
  CHECK(nos_powf_impl(2.0f, -kInf) == 0.0f);
  CHECK(nos_powf_impl(1.0000001f, 3e38f) == kInf);  // huge exponents saturate, not NaN
  CHECK(nos_powf_impl(0.9999999f, 3e38f) == 0.0f);
  CHECK(nos_powf_impl(1e-45f, 0.5f) == static_cast<float>(std::sqrt(static_cast<double>(1e-45f))));
  // nos_pow: sign(x) |x|^y, so pow(0, y < 0) = 0 * inf = NaN by definition (DSL.md's formula).
  CHECK(nos_pow(-8.0f, 1.0f / 3.0f) == doctest::Approx(-2.0f));
  CHECK(nos_pow(-2.0f, 2.0f) == -4.0f);
  CHECK(std::isnan(nos_pow(0.0f, -1.0f)));
}

TEST_CASE("math: two_sum is exact") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> any(-1e6f, 1e6f);
  for (int k = 0; k < 100000; ++k) {
    float a = any(rng), b = any(rng) * 1e-5f;
    nos_df s = nos_two_sum(a, b);
    CHECK(static_cast<double>(s.hi) + s.lo == static_cast<double>(a) + b);
  }
}

TEST_CASE("math: sqrt|x|, sign, clip keep NaN and signed zero") {
  CHECK(nos_sqrt(-4.0f) == 2.0f);
  CHECK(std::isnan(nos_sqrt(kNaN)));
  CHECK(std::signbit(nos_sign(-0.0f)));
  CHECK(std::isnan(nos_sign(kNaN)));
  CHECK(std::isnan(nos_clip(kNaN, 1.0f)));
  CHECK(std::signbit(nos_clip(-0.0f, 1.0f)));
  CHECK(nos_clip(-5.0f, 2.0f) == -2.0f);
}
