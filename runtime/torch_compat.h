// The few places where LibTorch's API differs between the Debian 1.13 CPU build used for
// development and the 2.x (CUDA) builds on GPU machines, each behind one helper.
#pragma once

#include <sstream>
#include <string>
#include <type_traits>

#include <c10/core/Device.h>
#include <torch/optim/optimizer.h>

#ifdef NOS_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace nos::runtime::compat {

// torch::optim::Optimizer::state() is keyed by a std::string (the TensorImpl address printed as
// text) up to LibTorch 1.x and by the TensorImpl pointer itself from 2.x. The key type is read off
// the map rather than off TORCH_VERSION_MAJOR, so a release that switches later still compiles.
using StateMap = std::remove_cvref_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
using StateKey = typename StateMap::key_type;

// A template so that only the branch of this LibTorch's key type is instantiated.
template <class Key = StateKey>
Key state_key(const at::Tensor& param) {
  void* impl = param.unsafeGetTensorImpl();
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // the same text c10::guts::to_string gives in 1.x
    text << impl;
    return text.str();
  } else {
    return impl;
  }
}

// The stream kernels on `device` must run on to stay ordered with LibTorch's own work: the current
// CUDA stream, as a CUstream. Null (the legacy default stream) for CPU devices and CPU-only builds.
inline void* current_stream(const c10::Device& device) {
#ifdef NOS_TORCH_CUDA
  if (device.is_cuda()) return c10::cuda::getCurrentCUDAStream(device.index()).stream();
#endif
  (void)device;
  return nullptr;
}

}  // namespace nos::runtime::compat
