// CUDA C++ source for an optimized update rule: a host+device per-element function and the one
// fused kernel that applies it to a whole table of tensors (kernel_abi.h). Text only: nvrtc.h
// compiles it, cuda_kernel.h launches it, and nothing here needs CUDA headers or a GPU.
//
// A program is host_device_prelude() + kernel_prelude() + one kernel_function() per rule.
// host_device_prelude() + rule_functions() alone is plain host C++ (the tests compile it with the
// host compiler and compare it bit for bit with the reference interpreter).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen::cuda {

// Work decomposition shared by the kernel and its launcher: the elements of every tensor of the
// table, taken in table order, are dealt to the blocks in equal shares (whole multiples of
// kShareQuantum elements, so each thread takes whole 4-element vectors), as many blocks as fill
// the device: no block waits for a partly filled last wave, and a share may span many tiny tensors.
inline constexpr int kBlockThreads = 256;
inline constexpr std::int64_t kShareQuantum = 4 * kBlockThreads;

// Where a block's share starts: element `begin` of tensors[tensor]. Block b updates from split b up
// to split b + 1 (exclusive); the last split is {num_tensors, 0}. `begin` is a multiple of 4, so
// vector accesses inside a share stay aligned wherever the tensor's own pointers are.
struct KernelSplit {
  std::uint32_t tensor;
  std::uint32_t reserved;
  std::int64_t begin;
};

// The functions generated for one rule under the C identifier `symbol`:
//   enum { <symbol>_step_values = N, <symbol>_streams = K };
//   void  <symbol>_step(const float* inputs, float* sv);   // KernelStep::inputs -> N step values
//   void  <symbol>_keys(seed, t, tensor, unsigned long long* key);  // K random-stream keys
//   float <symbol>_element(sv, key, lr, w, g, float* st, i);  // updates st[slot], returns w - lr*delta
struct RuleCode {
  std::string source;
  int step_values = 0;  // step-typed values the element function reads (never 0-sized in use)
  int streams = 0;      // random streams the rule draws from
};

// semantics.h and random.h verbatim: all the generated host+device code calls.
std::string host_device_prelude();
// Device-only definitions the kernels need: the kernel_abi.h structs (checked against the host's
// layout by static_assert), element-type loads and stores for f32, bf16 and f16.
std::string kernel_prelude();

// Throws std::invalid_argument when the rule does not fit the ABI (too many state slots or step
// inputs) or `symbol` is not a C identifier; std::logic_error when the IR is invalid.
RuleCode rule_functions(const ir::Function& f, std::string_view symbol);
// rule_functions() plus `extern "C" __global__ void <symbol>(tensors, splits, num_blocks, step)`.
std::string kernel_function(const ir::Function& f, DType dtype, std::string_view symbol);
// A complete NVRTC program for one rule.
std::string kernel_source(const ir::Function& f, DType dtype, std::string_view kernel_name = "nos_kernel");

}  // namespace nos::codegen::cuda
