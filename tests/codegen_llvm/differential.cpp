#include "differential.h"

#include <bit>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "compiler/interpreter.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "dsl/parser.h"

namespace nos::codegen::cpu::testing {
namespace {

// Tensor ids that are neither 0, 1, 2, ... nor in order, so a kernel keying its random streams by
// table index instead of tensor_id is caught.
std::uint32_t tensor_id(std::size_t k) { return static_cast<std::uint32_t>(k * 7 + 3) % 17; }

// Gradients and weights with the values that break naive math: zeros of both signs, denormals,
// huge values (exp overflow, pow of large bases), exact small integers, and ordinary magnitudes.
float awkward_value(std::mt19937_64& rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-8.0f, 2.0f);
  switch (std::uniform_int_distribution<int>(0, 19)(rng)) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return unit(rng) * 1e-40f;
    case 3: return unit(rng) * 1e30f;
    case 4: return std::round(unit(rng) * 4.0f);
    default: return unit(rng) * std::pow(10.0f, exponent(rng));
  }
}

bool same(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) || (a != a && b != b); }

std::uint16_t to_storage(DType dtype, float x) { return dtype == DType::BF16 ? reference_bf16(x) : reference_f16(x); }
float from_storage(DType dtype, std::uint16_t h) { return dtype == DType::BF16 ? from_bf16(h) : from_f16(h); }

// One tensor as the kernel sees it (w and g in the kernel's dtype) and as the interpreter sees it.
struct Tensor {
  std::uint32_t id;
  std::int64_t n;
  std::vector<float> w32, g32;                   // kernel storage for F32
  std::vector<std::uint16_t> w16, g16;           // kernel storage for BF16/F16
  std::vector<std::vector<float>> state;         // kernel states
  std::vector<float> ref_w, ref_g;               // interpreter
  std::vector<std::vector<float>> ref_state;
};

std::string describe(const ir::Function& f, const char* what, int t, const Tensor& tensor, std::int64_t i,
                     float kernel, float reference) {
  char text[256];
  std::snprintf(text, sizeof text, "step %d, tensor %u (n=%lld), element %lld: %s kernel %a, interpreter %a (g %a)", t,
                tensor.id, static_cast<long long>(tensor.n), static_cast<long long>(i), what, kernel, reference,
                tensor.ref_g[i]);
  return "rule '" + f.name + "': " + text;
}

}  // namespace

ir::Function compile_rule(std::string_view text) {
  ir::Function f = ir::optimize(ir::lower(dsl::parse_rule(text)));
  if (f.name.empty()) f.name = std::string(text);
  return f;
}

std::string compare_with_interpreter(const ir::Function& f, const CpuKernel& kernel, const RunOptions& options) {
  std::mt19937_64 rng(options.data_seed);
  const bool f32 = options.dtype == DType::F32;
  std::vector<Tensor> tensors;
  for (std::size_t k = 0; k < options.sizes.size(); ++k) {
    Tensor t;
    t.id = tensor_id(k);
    t.n = options.sizes[k];
    t.ref_w.resize(t.n);
    t.ref_g.resize(t.n);
    for (float& w : t.ref_w) w = f32 ? awkward_value(rng) : from_storage(options.dtype, to_storage(options.dtype, awkward_value(rng)));
    t.state.assign(f.states.size(), std::vector<float>(t.n, 0.0f));
    t.ref_state = t.state;
    if (f32) {
      t.w32 = t.ref_w;
      t.g32.resize(t.n);
    } else {
      for (float w : t.ref_w) t.w16.push_back(to_storage(options.dtype, w));
      t.g16.resize(t.n);
    }
    tensors.push_back(std::move(t));
  }

  const std::uint64_t seed = rng();
  for (int t = 1; t <= options.steps; ++t) {
    std::vector<KernelTensor> table;
    for (Tensor& tensor : tensors) {
      for (std::int64_t i = 0; i < tensor.n; ++i) {
        float g = awkward_value(rng);
        if (f32) {
          tensor.g32[i] = tensor.ref_g[i] = g;
        } else {
          tensor.g16[i] = to_storage(options.dtype, g);
          tensor.ref_g[i] = from_storage(options.dtype, tensor.g16[i]);
        }
      }
      KernelTensor kt{};
      kt.w = f32 ? static_cast<void*>(tensor.w32.data()) : static_cast<void*>(tensor.w16.data());
      kt.g = f32 ? static_cast<const void*>(tensor.g32.data()) : static_cast<const void*>(tensor.g16.data());
      for (std::size_t s = 0; s < f.states.size(); ++s) kt.state[s] = tensor.state[s].data();
      kt.numel = tensor.n;
      kt.tensor_id = tensor.id;
      table.push_back(kt);
    }
    ir::StepInputs inputs = ir::step_inputs(f, t, options.total_steps);
    KernelStep step{};
    step.lr = 0.01f * static_cast<float>(t);
    step.t = static_cast<std::uint32_t>(t);
    step.seed = seed;
    std::size_t next = 0;
    for (float v : inputs.step_scalars) step.inputs[next++] = v;
    for (float v : inputs.bias_correction) step.inputs[next++] = v;
    kernel.run(table.data(), table.size(), step, options.threads);

    for (Tensor& tensor : tensors) {
      ir::StepContext ctx;
      ctx.t = step.t;
      ctx.total_steps = options.total_steps;
      ctx.lr = step.lr;
      ctx.seed = seed;
      ctx.tensor = tensor.id;
      std::vector<float*> states;
      for (auto& s : tensor.ref_state) states.push_back(s.data());
      ir::interpret_step(f, ctx, tensor.ref_w.data(), tensor.ref_g.data(), states, static_cast<std::size_t>(tensor.n));
      for (std::int64_t i = 0; i < tensor.n; ++i) {
        float kernel_w = f32 ? tensor.w32[i] : from_storage(options.dtype, tensor.w16[i]);
        if (!f32) tensor.ref_w[i] = from_storage(options.dtype, to_storage(options.dtype, tensor.ref_w[i]));
        if (!same(kernel_w, tensor.ref_w[i])) return describe(f, "w", t, tensor, i, kernel_w, tensor.ref_w[i]);
        for (std::size_t s = 0; s < f.states.size(); ++s)
          if (!same(tensor.state[s][i], tensor.ref_state[s][i]))
            return describe(f, "state", t, tensor, i, tensor.state[s][i], tensor.ref_state[s][i]);
      }
    }
  }
  return "";
}

// Nearest representable value by explicit arithmetic in double: the quantum of x's binade (or of
// the denormal range), |x| / quantum rounded half-even by nearbyint, then the bits assembled.
namespace {
std::uint16_t round_to_format(float x, int mantissa_bits, int bias, std::uint16_t quiet_nan) {
  std::uint16_t sign = std::signbit(x) ? static_cast<std::uint16_t>(1u << (mantissa_bits + (bias == 127 ? 8 : 5))) : 0;
  std::uint16_t inf = static_cast<std::uint16_t>(((2 * bias + 1) << mantissa_bits));
  if (std::isnan(x)) return static_cast<std::uint16_t>(sign | quiet_nan);
  double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return sign | inf;
  if (a == 0) return sign;
  int e = std::max(std::ilogb(a), 1 - bias);
  double quantum = std::ldexp(1.0, e - mantissa_bits);
  double r = std::nearbyint(a / quantum);
  long bits = a < std::ldexp(1.0, 1 - bias) ? static_cast<long>(r)
                                              : ((static_cast<long>(e) + bias) << mantissa_bits) + static_cast<long>(r) - (1L << mantissa_bits);
  return static_cast<std::uint16_t>(sign | std::min<long>(bits, inf));
}

float decode(std::uint16_t h, int mantissa_bits, int exponent_bits) {
  int bias = (1 << (exponent_bits - 1)) - 1;
  int exponent = (h >> mantissa_bits) & ((1 << exponent_bits) - 1);
  int mantissa = h & ((1 << mantissa_bits) - 1);
  double sign = (h >> (mantissa_bits + exponent_bits)) ? -1.0 : 1.0;
  if (exponent == (1 << exponent_bits) - 1) return static_cast<float>(mantissa ? NAN : sign * INFINITY);
  if (exponent == 0) return static_cast<float>(sign * std::ldexp(mantissa, 1 - bias - mantissa_bits));
  return static_cast<float>(sign * std::ldexp(mantissa + (1 << mantissa_bits), exponent - bias - mantissa_bits));
}
}  // namespace

std::uint16_t reference_bf16(float x) { return round_to_format(x, 7, 127, 0x7fc0); }
std::uint16_t reference_f16(float x) { return round_to_format(x, 10, 15, 0x7e00); }
float from_bf16(std::uint16_t h) { return decode(h, 7, 8); }
float from_f16(std::uint16_t h) { return decode(h, 10, 5); }

}  // namespace nos::codegen::cpu::testing
