// The two arrays every launch of a rule kernel reads from device memory: the tensor table
// (kernel_abi.h's KernelTensor, device pointers inside) and where each block's share starts. Kept in device memory,
// not in kernel arguments, so one launch covers any number of tensors.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/kernel_abi.h"

namespace nos::codegen::cuda {

// The elements of `tensors`, in table order, dealt to at most `max_blocks` blocks in equal shares:
// share = the total divided by max_blocks, rounded up to a multiple of kShareQuantum; block b's
// share starts at element b * share of the concatenation, moved back to a multiple of 4 inside its
// tensor. Returns one split per block and the end {tensors.size(), 0}; only that end when every
// tensor is empty.
std::vector<KernelSplit> make_splits(std::span<const KernelTensor> tensors, std::uint32_t max_blocks);

class KernelTable {
 public:
  // Makes the device copy equal `tensors`, split for `max_blocks` blocks. Uploads (ordered on
  // `stream`) only when the table or the block count differs from the previous call, e.g. when torch
  // reallocated a gradient; an upload from pageable memory waits for `stream` to drain, so steady
  // training steps cost no copy and no wait. Use one stream per table: an upload on another stream
  // could overwrite a table a running kernel still reads.
  void update(std::span<const KernelTensor> tensors, std::uint32_t max_blocks, void* stream);

  std::span<const KernelTensor> tensors() const { return host_tensors_; }
  std::uint64_t device_tensors() const { return device_tensors_.address(); }
  std::uint64_t device_splits() const { return device_splits_.address(); }
  std::span<const KernelSplit> splits() const { return host_splits_; }
  // The blocks a launch takes: one per share.
  std::uint32_t num_blocks() const { return host_splits_.empty() ? 0 : static_cast<std::uint32_t>(host_splits_.size() - 1); }

 private:
  std::vector<KernelTensor> host_tensors_;
  std::vector<KernelSplit> host_splits_;
  std::uint32_t max_blocks_ = 0;
  DeviceBuffer device_tensors_;
  DeviceBuffer device_splits_;
};

}  // namespace nos::codegen::cuda
