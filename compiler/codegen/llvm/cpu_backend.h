// The LLVM CPU backend: an optimized ir::Function becomes one native kernel (kernel_abi.h's
// CpuKernelFn) that updates w and the state slots of a table of tensors, vectorized for this CPU,
// computing bit for bit what the reference interpreter computes.
//
// The kernel is built on the kernel runtime (dsl/semantics.h + dsl/random.h as LLVM bitcode),
// inlined and loop-vectorized with no fast-math and no FMA contraction, compiled to a relocatable
// object and linked by ORC. No LLVM header is reachable from here.
//
// The buffers of one tensor (w, g, each state) must not overlap: the kernel assumes they do not.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen::cpu {

// LLVM failed (bad object bytes, no target for this host, ...). Rules that do not fit the ABI
// (more than kMaxStateSlots states or kMaxStepInputs step inputs) throw std::invalid_argument,
// invalid IR std::logic_error (ir::verify).
class CodegenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The optimized module as LLVM assembly text (what the JIT compiles).
std::string emit_llvm_ir(const ir::Function& f, DType dtype);
// Host assembly of the kernel.
std::string emit_asm(const ir::Function& f, DType dtype);
// A relocatable object file defining `nos_kernel`, for an on-disk cache: CpuKernel::load_object
// accepts it on a machine with the same cpu_target_id().
std::string emit_object(const ir::Function& f, DType dtype);

// What a compiled kernel depends on besides the rule: CPU name and features, LLVM version, and a
// hash of the kernel runtime bitcode (so a change of semantics.h invalidates cached objects).
std::string cpu_target_id();

// A compiled, linked kernel. Thread-safe: run() may be called from several threads at once.
class CpuKernel {
 public:
  static std::shared_ptr<CpuKernel> compile(const ir::Function& f, DType dtype);
  static std::shared_ptr<CpuKernel> load_object(std::string_view object_bytes);
  ~CpuKernel();
  CpuKernel(const CpuKernel&) = delete;
  CpuKernel& operator=(const CpuKernel&) = delete;

  CpuKernelFn entry() const;

  // One step over whole tensors: every tensor is cut into ranges of kChunkElements; `threads`
  // std::threads share the ranges (threads <= 1: everything on the calling thread).
  void run(const KernelTensor* tensors, std::size_t n_tensors, const KernelStep& step, int threads) const;

  static constexpr std::int64_t kChunkElements = 65536;

 private:
  struct Impl;
  explicit CpuKernel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nos::codegen::cpu
