#include "compiler/codegen/kernel_abi.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nos::codegen {

const char* name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
  }
  return "?";
}

int element_bytes(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

std::string learning_rate_problem(double lr) {
  if (!(lr > 0) || !std::isfinite(lr)) return "must be a positive finite number";
  if (static_cast<float>(lr) == 0.0f) return "rounds to 0 in float32, the type the kernels compute in";
  if (!std::isfinite(static_cast<float>(lr))) return "does not fit in float32, the type the kernels compute in";
  return {};
}

KernelStep make_step(const ir::Function& optimized, float lr, std::uint32_t t, std::uint32_t total_steps,
                     std::uint64_t seed) {
  ir::StepInputs in = ir::step_inputs(optimized, t, total_steps);
  if (in.step_scalars.size() + in.bias_correction.size() > static_cast<std::size_t>(kMaxStepInputs))
    throw std::runtime_error("rule needs more than " + std::to_string(kMaxStepInputs) + " per-step inputs");
  KernelStep step{lr, t, seed, {}};
  std::size_t k = 0;
  for (float v : in.step_scalars) step.inputs[k++] = v;
  for (float v : in.bias_correction) step.inputs[k++] = v;
  return step;
}

}  // namespace nos::codegen
