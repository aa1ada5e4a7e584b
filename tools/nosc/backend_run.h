// Runs a rule for a few steps on one backend over host data: what `nosc eval` and `nosc verify`
// share. Device backends copy the data over and back.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/codegen/executor.h"
#include "compiler/ir.h"

namespace nos::nosc {

struct TensorData {
  std::vector<float> w;
  std::vector<std::vector<float>> states;  // one per ir::Function::states entry, zero at first
  std::uint32_t tensor_id = 0;
};

struct StepPlan {
  float lr = 0.01f;
  std::uint32_t total_steps = 1;
  std::uint64_t seed = 0;
};

// Applies steps t = 1..grads.size(), where grads[k][i] is tensors[i]'s gradient at step k + 1.
void run_steps(const ir::Function& optimized, codegen::Backend backend, const StepPlan& plan,
               std::vector<TensorData>& tensors, const std::vector<std::vector<std::vector<float>>>& grads);

}  // namespace nos::nosc
