// The reference interpreter: DSL.md's semantics in float32, one instruction at a time over whole
// arrays. Every code generator is tested against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "compiler/ir.h"

namespace nos::ir {

struct StepContext {
  std::uint32_t t = 1;            // 1-based step
  std::uint32_t total_steps = 1;  // T, for ld/cd/rd
  float lr = 0.01f;
  std::uint64_t seed = 0;
  std::uint32_t tensor = 0;       // id of the tensor in the parameter list (keys the random streams)
  const StepInputs* inputs = nullptr;  // precomputed per-step inputs; null: step_inputs(f, t, T)
};

// One step on n elements: updates states[slot] (n floats each, zero before step 1), then
// w <- w - lr * delta. Returns nothing; writes w and states in place.
void interpret_step(const Function& f, const StepContext& ctx, float* w, const float* g,
                    std::span<float* const> states, std::size_t n);

// The update direction delta alone (states are updated as in interpret_step).
std::vector<float> interpret_delta(const Function& f, const StepContext& ctx, const float* w,
                                   const float* g, std::span<float* const> states, std::size_t n);

}  // namespace nos::ir
