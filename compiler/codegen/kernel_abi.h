// The calling convention shared by every compiled update kernel (LLVM and CUDA) and their callers
// (nosc, the runtime's optimizer, the benchmarks). Plain C layout: the CUDA kernel reads the same
// structs from device memory and from its parameter space.
//
// One kernel updates a whole table of tensors: for every element i of tensor k it reads w, g and
// the state slots, updates the states, and writes w - lr * delta. Per-step scalars come from
// ir::step_inputs() on the host, once per step.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/ir.h"

namespace nos::codegen {

inline constexpr int kMaxStateSlots = 3;   // m, v, y
inline constexpr int kMaxStepInputs = 8;   // ld, cd, rd, noise_std + one bias correction per slot

// Element type of w and g. States are always float32.
enum class DType : std::uint8_t { F32, BF16, F16 };
const char* name(DType dtype);             // "f32", "bf16", "f16"
int element_bytes(DType dtype);

struct KernelTensor {
  void* w;                                 // numel elements of the kernel's dtype
  const void* g;                           // numel elements of the kernel's dtype
  float* state[kMaxStateSlots];            // one buffer per ir::Function::states entry, numel each
  std::int64_t numel;
  std::uint32_t tensor_id;                 // keys the random streams (dsl/random.h)
  std::uint32_t reserved;
};

struct KernelStep {
  float lr;
  std::uint32_t t;                         // 1-based step, keys the random streams
  std::uint64_t seed;
  float inputs[kMaxStepInputs];            // ir::StepInputs: step_scalars, then bias_correction
};

// CPU kernels (LLVM backend): update elements [begin, end) of tensors[tensor]. The caller splits
// the work over threads by tensor and range.
using CpuKernelFn = void (*)(const KernelTensor* tensors, std::uint32_t tensor, std::int64_t begin,
                             std::int64_t end, const KernelStep* step);

// The most CPU threads a kernel call, a training run or a tool's --threads may ask for: more is a
// typo, not a machine.
inline constexpr int kMaxThreads = 1024;

// Why `lr` cannot be a learning rate of these kernels, or an empty string when it can: it must be
// positive and finite, and stay positive once rounded to float32 (KernelStep::lr), so that 1e-50
// is refused instead of silently training with 0.
std::string learning_rate_problem(double lr);

// The per-step argument for step t of T: lr, t, seed and ir::step_inputs() in ABI order.
// Throws std::runtime_error when the rule needs more than kMaxStepInputs inputs.
KernelStep make_step(const ir::Function& optimized, float lr, std::uint32_t t, std::uint32_t total_steps,
                     std::uint64_t seed);

}  // namespace nos::codegen
