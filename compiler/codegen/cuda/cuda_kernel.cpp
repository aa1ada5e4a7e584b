#include "compiler/codegen/cuda/cuda_kernel.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/kernel_cache.h"
#include "compiler/passes.h"

namespace nos::codegen::cuda {

std::string kernel_compiler_id() {
  static const std::string id = "nvrtc-" + nvrtc_version() + " " + kCodegenRevision + " prelude-" +
                                ir::hash_hex(content_digest(host_device_prelude() + kernel_prelude()));
  return id;
}

CudaKernel CudaKernel::compile(const ir::Function& f, DType dtype, const std::string& arch) {
  const std::string target = arch.empty() ? current_device().arch() : arch;
  return CudaKernel(cuda::compile(kernel_source(f, dtype, "nos_kernel"), target), static_cast<int>(f.states.size()),
                    "nos_kernel");
}

CudaKernel CudaKernel::load(CompiledImage image, int state_slots, const std::string& kernel_name) {
  return CudaKernel(std::move(image), state_slots, kernel_name);
}

CudaKernel::CudaKernel(CompiledImage image, int state_slots, const std::string& kernel_name)
    : image_(std::move(image)), module_(image_.image), state_slots_(state_slots) {
  function_ = module_.function(kernel_name);
  function_at_ = module_.function(kernel_name + "_at");
  const DeviceInfo device = current_device();
  // 2048 resident threads per multiprocessor on every arch NVRTC 12+ targets.
  max_blocks_ = static_cast<std::uint32_t>(std::max(1, device.multiprocessors) * (2048 / kBlockThreads));
}

bool CudaKernel::check(const KernelTable& table) const {
  for (const KernelTensor& t : table.tensors()) {
    if (t.numel == 0) continue;
    bool ok = t.w && t.g;
    for (int k = 0; k < state_slots_; ++k) ok = ok && t.state[k];
    if (!ok)
      throw std::invalid_argument("CUDA kernel launch: tensor " + std::to_string(t.tensor_id) +
                                  " lacks w, g or one of its " + std::to_string(state_slots_) + " state buffers");
  }
  return table.num_blocks() > 0;
}

void CudaKernel::launch(const KernelTable& table, const KernelStep& step, void* stream) const {
  if (!check(table)) return;
  std::uint32_t num_blocks = table.num_blocks();
  std::uint64_t tensors = table.device_tensors(), splits = table.device_splits();
  KernelStep by_value = step;
  void* args[] = {&tensors, &splits, &num_blocks, &by_value};
  launch_kernel(function_, num_blocks, kBlockThreads, args, stream);
}

void CudaKernel::launch_at(const KernelTable& table, std::uint64_t device_step, void* stream) const {
  if (!check(table)) return;
  if (device_step % alignof(KernelStep) != 0)
    throw std::invalid_argument("CUDA kernel launch: the step's device address is not aligned for a KernelStep");
  std::uint32_t num_blocks = table.num_blocks();
  std::uint64_t tensors = table.device_tensors(), splits = table.device_splits();
  void* args[] = {&tensors, &splits, &num_blocks, &device_step};
  launch_kernel(function_at_, num_blocks, kBlockThreads, args, stream);
}

}  // namespace nos::codegen::cuda
