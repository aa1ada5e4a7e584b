// The CUDA backend's per-element functions compiled as plain host C++ and compared with the
// reference interpreter bit for bit (NaN equals NaN) over several steps: the same source NVRTC
// compiles, so this checks the generated code's semantics on a machine without a GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/cuda_kernel.h"
#include "compiler/interpreter.h"
#include "host_compile.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;
using nos::test::TestRule;

namespace {

constexpr std::size_t kElements = 70;
constexpr std::uint32_t kSteps = 4, kTotalSteps = 10;

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Signed zeros, tiny, huge and ordinary magnitudes of both signs: every branch of sign, clip, log,
// pow and div sees its edge cases.
std::vector<float> test_values(std::mt19937& rng, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(kElements);
  for (std::size_t i = 0; i < kElements; ++i) v[i] = normal(rng);
  const float edges[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e20f, -1e20f, 1.0f, -1.0f, 1e-8f, 3.5f};
  for (std::size_t i = 0; i < std::size(edges); ++i) v[i * 7 % kElements] = edges[i];
  return v;
}

// Runs every rule for kSteps steps through the interpreter and through one shared object built from
// the generated code, comparing w and every state slot after each step.
void check_against_interpreter(const std::vector<TestRule>& rules, const std::string& stem) {
  std::string source = host_device_prelude();
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const std::string sym = "rule" + std::to_string(r);
    source += rule_functions(rules[r].f, sym).source + test::host_driver(rules[r].f, sym);
  }
  test::HostLibrary library(source, stem);

  int failing_rules = 0;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const ir::Function& f = rules[r].f;
    auto run = reinterpret_cast<test::HostRunFn>(library.symbol("rule" + std::to_string(r) + "_run"));
    std::mt19937 rng(static_cast<unsigned>(1000 + r));
    std::vector<float> w_ref = test_values(rng, 1.0f), w_gen = w_ref;
    std::vector<std::vector<float>> s_ref(f.states.size(), std::vector<float>(kElements, 0.0f)), s_gen = s_ref;
    std::string mismatch;
    for (std::uint32_t t = 1; t <= kSteps && mismatch.empty(); ++t) {
      const std::vector<float> g = test_values(rng, t == 2 ? 1e-3f : 1.0f);
      ir::StepContext ctx;
      ctx.t = t;
      ctx.total_steps = kTotalSteps;
      ctx.lr = 0.1f;
      ctx.seed = 42 + r;
      ctx.tensor = static_cast<std::uint32_t>(r % 5);
      std::vector<float*> ref_ptrs, gen_ptrs;
      for (auto& s : s_ref) ref_ptrs.push_back(s.data());
      for (auto& s : s_gen) gen_ptrs.push_back(s.data());
      ir::interpret_step(f, ctx, w_ref.data(), g.data(), ref_ptrs, kElements);
      const KernelStep step = codegen::make_step(f, ctx.lr, t, kTotalSteps, ctx.seed);
      run(step.inputs, step.seed, t, ctx.tensor, step.lr, w_gen.data(), g.data(), gen_ptrs.data(),
          static_cast<long long>(kElements));
      for (std::size_t i = 0; i < kElements && mismatch.empty(); ++i) {
        if (!same_bits(w_ref[i], w_gen[i]))
          mismatch = "w[" + std::to_string(i) + "] at step " + std::to_string(t) + ": interpreter " +
                     std::to_string(w_ref[i]) + ", generated " + std::to_string(w_gen[i]);
        for (std::size_t s = 0; s < f.states.size() && mismatch.empty(); ++s)
          if (!same_bits(s_ref[s][i], s_gen[s][i]))
            mismatch = "state " + std::to_string(s) + "[" + std::to_string(i) + "] at step " + std::to_string(t);
      }
    }
    if (!mismatch.empty() && ++failing_rules <= 5)
      FAIL_CHECK("rule '" << rules[r].label << "': " << mismatch << "\n" << rule_functions(f, "rule").source);
  }
  CHECK(failing_rules == 0);
  MESSAGE(rules.size() << " rules x " << kSteps << " steps x " << kElements << " elements compared");
}

}  // namespace

TEST_CASE("cuda element code: named rules match the interpreter bit for bit") {
  check_against_interpreter(test::named_rules(), "named");
}

TEST_CASE("cuda element code: unoptimized IR (dead steps, unread state, non-finite constants, streams)") {
  check_against_interpreter(test::unoptimized_rules(), "unoptimized");
}

TEST_CASE("cuda element code: 240 random rules of 1-3 groups match the interpreter bit for bit") {
  check_against_interpreter(test::random_rules(2024, 240, 1, 3), "random");
}

TEST_CASE("cuda element code: pow matches the interpreter bit for bit on every pair of edge values") {
  // The CUDA source's nos_pow (double precision) compiled for the host, on the pairs
  // tests/codegen_llvm/pow_identity_test.cpp gives the LLVM kernel: signed zeros, denormals,
  // negative bases, exact powers, bases next to 1, huge results, infinities, NaN. w = y, and
  // lr = -1, -2^60, -2^-60 put pow's bits in w - lr pow(g, w) at every magnitude.
  const float inf = INFINITY, nan = NAN;
  std::vector<float> a = {0.0f, 1e-45f, 1e-40f, 0x1p-127f, 0x1p-126f, 1e-30f, 0.1f, 1.0f / 3, 0.5f,
                          0x1.6a09e6p-1f, 0.9999999f, 1.0f, 1.0000001f, 0x1.6a09e6p+0f, 2.0f, 3.0f, 10.0f,
                          1e10f, 3.4028235e38f, inf, nan};
  std::vector<float> y = {0.0f, 1e-45f, 1.0f / 3, 0.5f, 1.0f, 2.0f, 3.0f, 7.0f, 24.0f, 127.0f, 128.0f,
                          149.0f, 150.0f, 1e4f, 0x1p65f, 3.4028235e38f, inf, nan};
  for (std::vector<float>* v : {&a, &y}) {
    const std::size_t n = v->size();
    for (std::size_t i = 0; i < n; ++i) v->push_back(-(*v)[i]);
  }
  std::vector<float> g, w0;
  for (float base : a)
    for (float e : y) g.push_back(base), w0.push_back(e);

  const TestRule rule = test::compile_text("pow(g, w)");
  test::HostLibrary library(host_device_prelude() + rule_functions(rule.f, "pow_rule").source +
                                test::host_driver(rule.f, "pow_rule"),
                            "pow_edges");
  auto run = reinterpret_cast<test::HostRunFn>(library.symbol("pow_rule_run"));
  int mismatches = 0;
  for (float lr : {-1.0f, -0x1p60f, -0x1p-60f}) {
    std::vector<float> w_ref = w0, w_gen = w0;
    ir::StepContext ctx;
    ctx.t = 1;
    ctx.total_steps = 1;
    ctx.lr = lr;
    ir::interpret_step(rule.f, ctx, w_ref.data(), g.data(), {}, g.size());
    const KernelStep step = codegen::make_step(rule.f, lr, 1, 1, 0);
    run(step.inputs, step.seed, 1, 0, step.lr, w_gen.data(), g.data(), nullptr, static_cast<long long>(g.size()));
    for (std::size_t i = 0; i < g.size(); ++i)
      if (!same_bits(w_ref[i], w_gen[i]) && ++mismatches <= 5)
        FAIL_CHECK("pow(" << g[i] << ", " << w0[i] << "), lr " << lr << ": interpreter " << w_ref[i] << ", generated " << w_gen[i]);
  }
  CHECK(mismatches == 0);
  MESSAGE(g.size() << " pairs compared at 3 learning rates");
}
