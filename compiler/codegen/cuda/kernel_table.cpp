#include "compiler/codegen/cuda/kernel_table.h"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace nos::codegen::cuda {

std::vector<KernelChunk> make_chunks(std::span<const KernelTensor> tensors) {
  if (tensors.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("kernel table: too many tensors");
  std::vector<KernelChunk> chunks;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const std::int64_t numel = tensors[k].numel;
    if (numel < 0) throw std::invalid_argument("kernel table: tensor " + std::to_string(k) + " has negative numel");
    const std::int64_t count = (numel + kChunkElements - 1) / kChunkElements;
    if (count > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("kernel table: tensor " + std::to_string(k) + " is too large");
    for (std::int64_t c = 0; c < count; ++c)
      chunks.push_back({static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(c)});
  }
  if (chunks.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("kernel table: too many chunks");
  return chunks;
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

void KernelTable::update(std::span<const KernelTensor> tensors, void* stream) {
  if (same(host_tensors_, tensors)) return;
  host_chunks_ = make_chunks(tensors);
  host_tensors_.assign(tensors.begin(), tensors.end());
  upload(device_tensors_, host_tensors_, stream);
  upload(device_chunks_, host_chunks_, stream);
}

}  // namespace nos::codegen::cuda
