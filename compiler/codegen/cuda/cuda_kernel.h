// One compiled update rule on the GPU: generate (cuda_codegen.h), compile (nvrtc.h), load and launch
// (cuda_driver.h) - the executor of PyTorch's NVRTC fuser, for NOS's single fused kernel.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/cuda/kernel_table.h"
#include "compiler/codegen/cuda/nvrtc.h"
#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen::cuda {

// What a kernel image depends on besides the rule, the element type and the arch: NVRTC's version,
// the code generators' revision (kCodegenRevision) and a digest of the generated source's prelude
// (dsl/semantics.h, dsl/random.h, the ABI structs), so that editing any of them turns cached images
// into misses. The `compiler` field of every CUDA kernel cache key.
std::string kernel_compiler_id();

class CudaKernel {
 public:
  // Generates the rule's kernel for `dtype`, compiles it for `arch` (empty: the current device's
  // arch) and loads it into the current context.
  static CudaKernel compile(const ir::Function& f, DType dtype, const std::string& arch = "");
  // Loads an image compiled earlier (e.g. from a cache) of a rule with `state_slots` state slots.
  static CudaKernel load(CompiledImage image, int state_slots, const std::string& kernel_name = "nos_kernel");

  // One optimizer step over every tensor of `table`, enqueued on `stream` (a CUstream, e.g. torch's
  // current stream; nullptr: the legacy default stream). Checks the table against the rule first.
  void launch(const KernelTable& table, const KernelStep& step, void* stream) const;
  // The same step with its KernelStep read from device memory (`device_step`) when the kernel runs,
  // so that a launch captured in a CUDA graph reads each replay's values: the kernel's _at twin.
  void launch_at(const KernelTable& table, std::uint64_t device_step, void* stream) const;

  const CompiledImage& image() const { return image_; }
  // The blocks that fill the current device (KernelTable::update's max_blocks).
  std::uint32_t max_blocks() const { return max_blocks_; }

 private:
  CudaKernel(CompiledImage image, int state_slots, const std::string& kernel_name);

  CompiledImage image_;
  Module module_;
  // Whether `table` has something to update (throws when it does not fit the rule).
  bool check(const KernelTable& table) const;

  void* function_ = nullptr;
  void* function_at_ = nullptr;  // kernel_name + "_at"
  int state_slots_ = 0;
  std::uint32_t max_blocks_ = 0;  // the resident blocks that fill the device: one wave, equal shares
};

}  // namespace nos::codegen::cuda
