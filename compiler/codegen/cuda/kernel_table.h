// The two arrays every launch of a rule kernel reads from device memory: the tensor table
// (kernel_abi.h's KernelTensor, device pointers inside) and its chunk list. Kept in device memory,
// not in kernel arguments, so one launch covers any number of tensors.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/kernel_abi.h"

namespace nos::codegen::cuda {

// Every tensor cut into chunks of kChunkElements, in table order; empty tensors have none.
std::vector<KernelChunk> make_chunks(std::span<const KernelTensor> tensors);

class KernelTable {
 public:
  // Makes the device copy equal `tensors`. Uploads (ordered on `stream`) only when the table differs
  // from the previous call, e.g. when torch reallocated a gradient; an upload from pageable memory
  // waits for `stream` to drain, so steady training steps cost no copy and no wait. Use one stream
  // per table: an upload on another stream could overwrite a table a running kernel still reads.
  void update(std::span<const KernelTensor> tensors, void* stream);

  std::span<const KernelTensor> tensors() const { return host_tensors_; }
  std::uint64_t device_tensors() const { return device_tensors_.address(); }
  std::uint64_t device_chunks() const { return device_chunks_.address(); }
  std::uint32_t num_chunks() const { return static_cast<std::uint32_t>(host_chunks_.size()); }

 private:
  std::vector<KernelTensor> host_tensors_;
  std::vector<KernelChunk> host_chunks_;
  DeviceBuffer device_tensors_;
  DeviceBuffer device_chunks_;
};

}  // namespace nos::codegen::cuda
