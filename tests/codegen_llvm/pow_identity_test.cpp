// pow (dsl/semantics.h's nos_pow, computed in double precision) through the vectorized LLVM kernel
// against the reference interpreter, bit for bit, on the inputs where a pow goes wrong: signed
// zeros, denormals, negative bases with integer and fractional exponents, exact powers, bases next
// to 1, huge and tiny results, infinities and NaN, then a million random pairs.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "compiler/interpreter.h"
#include "differential.h"
#include "dsl/semantics.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cpu;
using namespace nos::codegen::cpu::testing;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool same_bits(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

// Bases and exponents that meet pow's special cases and its reduction boundaries, both signs.
std::vector<float> edge_values() {
  std::vector<float> v = {0.0f, 1e-45f, 1e-40f, 0x1p-127f, 0x1.fffffcp-127f, 0x1p-126f, 1e-30f, 1e-8f,
                          0.1f, 1.0f / 3, 0.5f, 0x1.6a09e6p-1f, 0x1.6a09e8p-1f, 0.9999999f, 1.0f, 1.0000001f,
                          0x1.6a09e6p+0f, 0x1.6a09e8p+0f, 1.5f, 2.0f, 3.0f, 7.0f, 10.0f, 1e10f, 0x1p64f,
                          3.4028235e38f, kInf, kNaN};
  std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

std::vector<float> exponents() {
  std::vector<float> y = {0.0f, 1e-45f, 1e-10f, 1.0f / 3, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 7.0f,
                          24.0f, 100.0f, 126.0f, 127.0f, 128.0f, 149.0f, 150.0f, 1e4f, 0x1p24f, 0x1p63f,
                          0x1p65f, 3.4028235e38f, kInf, kNaN};
  std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) y.push_back(-y[i]);
  return y;
}

// Runs Δ = pow(g, w) with w = y: the kernel writes y - lr pow(g, y). Three learning rates show
// the bits of pow's result at three magnitudes (lr = -2^60 turns a tiny pow into the result,
// lr = -2^-60 a huge one). Returns the number of differing elements.
int count_mismatches(const std::vector<float>& bases, const std::vector<float>& ys) {
  ir::Function f = compile_rule("pow(g, w)");
  auto kernel = CpuKernel::compile(f, DType::F32);
  int mismatches = 0;
  for (float lr : {-1.0f, -0x1p60f, -0x1p-60f}) {
    std::vector<float> w = ys, ref_w = ys;
    KernelTensor kt{};
    kt.w = w.data();
    kt.g = bases.data();
    kt.numel = static_cast<std::int64_t>(bases.size());
    KernelStep step{};
    step.lr = lr;
    step.t = 1;
    kernel->run(&kt, 1, step, 1);
    ir::StepContext ctx;
    ctx.t = 1;
    ctx.total_steps = 1;
    ctx.lr = lr;
    ir::interpret_step(f, ctx, ref_w.data(), bases.data(), {}, bases.size());
    for (std::size_t i = 0; i < bases.size(); ++i) {
      if (same_bits(w[i], ref_w[i])) continue;
      if (++mismatches <= 5)
        FAIL_CHECK("pow(" << bases[i] << ", " << ys[i] << "), lr " << lr << ": kernel " << w[i] << ", interpreter " << ref_w[i]);
    }
  }
  return mismatches;
}

}  // namespace

TEST_CASE("llvm: pow matches the interpreter bit for bit on every pair of edge values") {
  std::vector<float> bases, ys;
  for (float a : edge_values())
    for (float y : exponents()) bases.push_back(a), ys.push_back(y);
  CHECK(count_mismatches(bases, ys) == 0);
  MESSAGE(bases.size(), " pairs of edge values compared (vector loop and scalar remainder)");
}

TEST_CASE("llvm: pow matches the interpreter bit for bit on a million random pairs") {
  // Any finite base of either sign; exponents that put y log2|a| anywhere in [-160, 160] (normal,
  // denormal, overflowing and underflowing results), every tenth one an integer.
  std::mt19937_64 rng(20);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7fffff);
  std::uniform_real_distribution<double> target(-160.0, 160.0);
  std::vector<float> bases, ys;
  for (int k = 0; k < 1000000; ++k) {
    float a = std::bit_cast<float>(bits(rng));
    double l = std::log2(static_cast<double>(a));
    float y = l == 0 || !std::isfinite(l) ? 2.0f : static_cast<float>(target(rng) / l);
    if (k % 10 == 0) y = std::nearbyint(std::fmin(std::fabs(y), 300.0f)) * (y < 0 ? -1.0f : 1.0f);
    bases.push_back(rng() % 2 ? -a : a);
    ys.push_back(y);
  }
  CHECK(count_mismatches(bases, ys) == 0);
}

TEST_CASE("pow: negative bases with integer exponents and exact powers are exact") {
  CHECK(nos_pow(-3.0f, 3.0f) == -27.0f);
  CHECK(nos_pow(-2.0f, 3.0f) == -8.0f);
  CHECK(nos_pow(-2.0f, 2.0f) == -4.0f);  // sign(x) |x|^y, not C's pow
  CHECK(nos_pow(-10.0f, 7.0f) == -1e7f);
  CHECK(nos_pow(3.0f, 15.0f) == 14348907.0f);
  CHECK(nos_pow(5.0f, -2.0f) == 0.04f);
  CHECK(nos_pow(-0.5f, -3.0f) == -8.0f);
  CHECK(nos_pow(2.0f, 127.0f) == 0x1p127f);
  CHECK(nos_pow(2.0f, -126.0f) == 0x1p-126f);
  CHECK(nos_pow(2.0f, -149.0f) == 0x1p-149f);
  CHECK(nos_pow(2.0f, -150.0f) == 0.0f);  // halfway to 2^-149: even
  CHECK(nos_pow(0x1p-149f, 0.5f) == static_cast<float>(std::sqrt(0x1p-149)));
  CHECK(nos_pow(0x1p-149f, -1.0f) == kInf);
  CHECK(nos_pow(9.0f, 0.5f) == 3.0f);
  CHECK(nos_pow(-27.0f, 1.0f / 3.0f) == static_cast<float>(-std::pow(27.0, static_cast<double>(1.0f / 3.0f))));
  CHECK(std::isnan(nos_pow(kNaN, 2.0f)));
  CHECK(nos_pow(-kInf, 2.0f) == -kInf);
  CHECK(nos_pow(-kInf, -2.0f) == 0.0f);
}
