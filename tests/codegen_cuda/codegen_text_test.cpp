// What the generated CUDA source says, checked on text: the IR-to-call mapping, exact constants,
// step-input indexing, and the ABI limits the generator enforces.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

namespace {

// adam by hand, so the expected text does not depend on the optimizer's numbering.
ir::Function hand_adam() {
  ir::Function f;
  f.name = "adam";
  f.states = {{1, 0.9f, true}, {2, 0.999f, true}};
  ir::Builder b(f);
  ir::Value m = b.leaf(ir::Op::Mavg, 0);
  ir::Value v = b.leaf(ir::Op::Mavg, 1);
  f.result = b.apply(ir::Fn::Div, m, b.apply(ir::Fn::Sqrt, v), 1e-8f);
  return f;
}

}  // namespace

TEST_CASE("cuda codegen: adam's element function, line by line") {
  const RuleCode code = rule_functions(hand_adam(), "adam");
  CHECK(code.step_values == 2);  // the two bias corrections
  CHECK(code.streams == 0);
  const char* expected = R"(
// ---- rule 'adam' as adam ----
enum : int { adam_step_values = 2, adam_streams = 0 };

// Values the same for every element of a step, computed once per thread from KernelStep::inputs.
NOS_HD void adam_step(const float* in, float* sv) {
  (void)in; (void)sv;
  sv[0] = in[0];  // bias correction of slot 0
  sv[1] = in[1];  // bias correction of slot 1
}

// One key per random stream, computed once per chunk (dsl/random.h).
NOS_HD void adam_keys(unsigned long long seed, unsigned int t, unsigned int tensor, unsigned long long* key) {
  (void)seed; (void)t; (void)tensor; (void)key;
}

// One element: updates the state slots st[] in place, then returns w - lr * delta.
NOS_HD float adam_element(const float* sv, const unsigned long long* key, float lr, float w, float g, float* st,
    unsigned long long i) {
  (void)sv; (void)key; (void)w; (void)g; (void)st; (void)i;
  st[0] = nos_mavg(st[0], g, 0x1.ccccccp-1f);  // m, beta 0.899999976
  st[1] = nos_mavg(st[1], g * g, 0x1.ff7ceep-1f);  // v, beta 0.999000013
  const float v0 = st[0] * sv[0];
  const float v1 = st[1] * sv[1];
  const float v2 = nos_sqrt(v1);
  const float v3 = nos_div(v0, v2, 0x1.5798eep-27f);
  return w - lr * v3;
}
)";
  CHECK(code.source == expected);
}

TEST_CASE("cuda codegen: step values, streams and non-finite constants") {
  ir::Function f;
  f.name = "mixed";
  f.states = {{3, 0.5f, false}};
  ir::Builder b(f);
  b.leaf(ir::Op::Step, static_cast<std::uint32_t>(ir::StepScalar::LinearDecay));  // dead, still input 0
  ir::Value noise_std = b.leaf(ir::Op::Step, static_cast<std::uint32_t>(ir::StepScalar::NoiseStd));
  ir::Value scaled = b.apply(ir::Fn::Mul, noise_std, b.constant(std::numeric_limits<float>::infinity()));
  ir::Value normal = b.leaf(ir::Op::Normal, ir::kNoiseStream);
  ir::Value y = b.leaf(ir::Op::Mavg, 0);
  ir::Value quarter = b.constant(0.25f);
  ir::Value dropped = b.apply(ir::Fn::Drop, y, quarter, 0, 5);
  f.result = b.apply(ir::Fn::Add, b.apply(ir::Fn::Mul, scaled, normal), dropped);
  const RuleCode code = rule_functions(f, "mixed");
  CHECK(code.step_values == 2);  // noise_std * inf, and slot 0's bias correction
  CHECK(code.streams == 2);
  auto has = [&](const std::string& text) {
    INFO(code.source);
    CHECK(code.source.find(text) != std::string::npos);
  };
  has("const float v1 = in[1];  // noise_std");
  has("const float v3 = nos_mul(v1, nos_from_bits(0x7F800000u));");
  has("sv[0] = v3;");
  has("sv[1] = in[2];  // bias correction of slot 0");
  has("key[0] = nos_rng_key(seed, t, tensor, 1u);");
  has("key[1] = nos_rng_key(seed, t, tensor, 5u);");
  has("st[0] = nos_mavg(st[0], (g * g) * g, 0x1p-1f);  // y, beta 0.5");
  has("nos_drop(v5, 0x1p-2f, nos_uniform(key[1], i))");
  has("nos_normal(key[0], i)");
}

TEST_CASE("cuda codegen: the kernel reads every used state slot and converts the element type") {
  const ir::Function f = hand_adam();
  const std::string bf16 = kernel_function(f, DType::BF16, "k");
  CHECK(bf16.find("typedef nos_bf16 elem_t;") != std::string::npos);
  CHECK(bf16.find("nos_aligned4(w) && nos_aligned4(g) && nos_aligned4(s0) && nos_aligned4(s1)") != std::string::npos);
  CHECK(bf16.find("float st[2] = {s0v[k], s1v[k]};") != std::string::npos);
  CHECK(kernel_function(f, DType::F32, "k").find("typedef float elem_t;") != std::string::npos);
  CHECK(kernel_function(f, DType::F16, "k").find("typedef nos_f16 elem_t;") != std::string::npos);
  CHECK(kernel_source(f, DType::F32).find("extern \"C\" __global__ void __launch_bounds__(NOS_BLOCK_THREADS) nos_kernel(") !=
        std::string::npos);
  // Its twin for CUDA graphs reads the step from device memory, through the same body.
  const std::string source = kernel_source(f, DType::F32);
  CHECK(source.find("nos_kernel_at(const NosKernelTensor* __restrict__ tensors") != std::string::npos);
  CHECK(source.find("const NosKernelStep* __restrict__ step) {\n  nos_kernel_body(tensors, splits, num_blocks, *step);") !=
        std::string::npos);
}

TEST_CASE("cuda codegen: the prelude is dsl/semantics.h and dsl/random.h verbatim") {
  const std::string prelude = host_device_prelude();
  for (const char* path : {"/dsl/semantics.h", "/dsl/random.h"}) {
    std::ifstream in(std::string(NOS_SOURCE_DIR) + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(!text.empty());
    CHECK(prelude.find(text) != std::string::npos);
  }
}

TEST_CASE("cuda codegen: rules beyond the ABI and bad symbols are rejected") {
  ir::Function f = hand_adam();
  CHECK_THROWS_AS(rule_functions(f, "1adam"), std::invalid_argument);
  CHECK_THROWS_AS(rule_functions(f, "ad-am"), std::invalid_argument);
  f.states.push_back({3, 0.5f, true});
  f.states.push_back({3, 0.5f, true});
  CHECK_THROWS_AS(rule_functions(f, "adam"), std::invalid_argument);  // 4 slots > kMaxStateSlots

  ir::Function steps;
  ir::Builder b(steps);
  ir::Value sum = b.leaf(ir::Op::Step, 0);
  for (int k = 0; k < kMaxStepInputs; ++k) sum = b.apply(ir::Fn::Add, sum, b.leaf(ir::Op::Step, 0));
  steps.result = b.apply(ir::Fn::Mul, sum, b.leaf(ir::Op::Grad));
  CHECK_THROWS_AS(rule_functions(steps, "steps"), std::invalid_argument);
}
