#include "compiler/codegen/cuda/kernel_table.h"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace nos::codegen::cuda {

std::vector<KernelSplit> make_splits(std::span<const KernelTensor> tensors, std::uint32_t max_blocks) {
  if (tensors.size() >= std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("kernel table: too many tensors");
  if (max_blocks == 0) throw std::invalid_argument("kernel table: no blocks to deal the work to");
  std::int64_t total = 0;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    if (tensors[k].numel < 0)
      throw std::invalid_argument("kernel table: tensor " + std::to_string(k) + " has negative numel");
    if (tensors[k].numel > std::numeric_limits<std::int64_t>::max() / 2 - total)
      throw std::invalid_argument("kernel table: too many elements");
    total += tensors[k].numel;
  }
  const KernelSplit end{static_cast<std::uint32_t>(tensors.size()), 0, 0};
  if (total == 0) return {end};
  std::int64_t share = (total + max_blocks - 1) / max_blocks;
  share = (share + kShareQuantum - 1) / kShareQuantum * kShareQuantum;
  const std::int64_t blocks = (total + share - 1) / share;

  std::vector<KernelSplit> splits;
  splits.reserve(static_cast<std::size_t>(blocks) + 1);
  std::size_t t = 0;
  std::int64_t start = 0;  // element index of tensors[t]'s first element in the concatenation
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t at = b * share;
    while (at >= start + tensors[t].numel) start += tensors[t++].numel;  // skips empty tensors too
    const std::int64_t begin = (at - start) & ~std::int64_t{3};
    splits.push_back({static_cast<std::uint32_t>(t), 0, begin});
  }
  splits.push_back(end);
  return splits;
}

namespace {

template <typename T>
bool same(const std::vector<T>& a, std::span<const T> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Grows (never shrinks) the buffer, then uploads.
template <typename T>
void upload(DeviceBuffer& buffer, const std::vector<T>& host, void* stream) {
  const std::size_t bytes = host.size() * sizeof(T);
  if (buffer.size() < bytes) buffer = DeviceBuffer(bytes);
  buffer.upload(host.data(), bytes, 0, stream);
}

}  // namespace

void KernelTable::update(std::span<const KernelTensor> tensors, std::uint32_t max_blocks, void* stream) {
  if (max_blocks == max_blocks_ && same(host_tensors_, tensors)) return;
  host_splits_ = make_splits(tensors, max_blocks);
  host_tensors_.assign(tensors.begin(), tensors.end());
  max_blocks_ = max_blocks;
  upload(device_tensors_, host_tensors_, stream);
  upload(device_splits_, host_splits_, stream);
}

}  // namespace nos::codegen::cuda
