// Differential testing of the LLVM backend: a compiled kernel and the reference interpreter run the
// same steps on the same data, and every w and state value must agree bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/codegen/llvm/cpu_backend.h"
#include "compiler/ir.h"

namespace nos::codegen::cpu::testing {

// Text -> parse -> lower -> optimize, the way nosc compiles a rule.
ir::Function compile_rule(std::string_view text);

struct RunOptions {
  // One tensor per size, each with its own tensor id.
  std::vector<std::int64_t> sizes = {1, 7, 1000, 4099};
  DType dtype = DType::F32;
  int steps = 5;             // t = 1..steps
  std::uint32_t total_steps = 10;
  int threads = 1;
  std::uint64_t data_seed = 1;
};

// Runs `options.steps` steps of `f` with `kernel` over a table of tensors and with
// ir::interpret_step on copies of the same data. Returns "" when w and every state agree bit for bit after every step (any NaN equals
// any NaN), else a description of the first difference.
std::string compare_with_interpreter(const ir::Function& f, const CpuKernel& kernel, const RunOptions& options = {});

// Round to nearest even, written independently of the kernel runtime's integer conversions.
std::uint16_t reference_bf16(float x);
std::uint16_t reference_f16(float x);
float from_bf16(std::uint16_t h);
float from_f16(std::uint16_t h);

}  // namespace nos::codegen::cpu::testing
