// The GPU roofline kernel (roofline.h): built once per process with NVRTC for the current device
// and launched through the driver API, like NOS's own CUDA kernels, so both pay the same launch path.
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "benchmarks/nos_bench/roofline.h"
#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/cuda/nvrtc.h"

namespace nos::bench {
namespace {

// float4 accesses for the bulk (the widest plain load; buffers come from the caching allocator,
// 256-byte aligned), one grid-stride loop, the scalar tail after it.
constexpr const char* kSource = R"(
extern "C" __global__ void nos_roofline(float* __restrict__ w, const float* __restrict__ g,
                                        float* __restrict__ s0, float* __restrict__ s1,
                                        float* __restrict__ s2, int n_states, long long n) {
  const float c = 1e-3f, b = 0.9f;
  long long stride = (long long)gridDim.x * blockDim.x;
  long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long n4 = n / 4;
  for (long long i = first; i < n4; i += stride) {
    float4 gi = reinterpret_cast<const float4*>(g)[i];
    if (n_states > 0) {
      float4 s = reinterpret_cast<float4*>(s0)[i];
      s.x = b * s.x + (1 - b) * gi.x; s.y = b * s.y + (1 - b) * gi.y;
      s.z = b * s.z + (1 - b) * gi.z; s.w = b * s.w + (1 - b) * gi.w;
      reinterpret_cast<float4*>(s0)[i] = s;
    }
    if (n_states > 1) {
      float4 s = reinterpret_cast<float4*>(s1)[i];
      s.x = b * s.x + (1 - b) * gi.x; s.y = b * s.y + (1 - b) * gi.y;
      s.z = b * s.z + (1 - b) * gi.z; s.w = b * s.w + (1 - b) * gi.w;
      reinterpret_cast<float4*>(s1)[i] = s;
    }
    if (n_states > 2) {
      float4 s = reinterpret_cast<float4*>(s2)[i];
      s.x = b * s.x + (1 - b) * gi.x; s.y = b * s.y + (1 - b) * gi.y;
      s.z = b * s.z + (1 - b) * gi.z; s.w = b * s.w + (1 - b) * gi.w;
      reinterpret_cast<float4*>(s2)[i] = s;
    }
    float4 wi = reinterpret_cast<float4*>(w)[i];
    wi.x -= c * gi.x; wi.y -= c * gi.y; wi.z -= c * gi.z; wi.w -= c * gi.w;
    reinterpret_cast<float4*>(w)[i] = wi;
  }
  for (long long i = 4 * n4 + first; i < n; i += stride) {
    float gi = g[i];
    if (n_states > 0) s0[i] = b * s0[i] + (1 - b) * gi;
    if (n_states > 1) s1[i] = b * s1[i] + (1 - b) * gi;
    if (n_states > 2) s2[i] = b * s2[i] + (1 - b) * gi;
    w[i] = w[i] - c * gi;
  }
}
)";

constexpr unsigned int kBlock = 256;
constexpr unsigned int kBlocksPerMultiprocessor = 8;  // enough resident warps to saturate HBM

struct Loaded {
  codegen::cuda::Module module;
  void* function;
  unsigned int grid;
};

// Loaded once and never unloaded: cuModuleUnload from a static destructor runs during exit, when
// the CUDA driver or runtime may already have released the context (executor.cpp's CUDA cache).
const Loaded& loaded() {
  static std::once_flag once;
  static Loaded* kernel = nullptr;  // deliberately leaked
  std::call_once(once, [] {
    codegen::cuda::DeviceInfo device = codegen::cuda::current_device();
    codegen::cuda::CompiledImage image =
        codegen::cuda::compile(kSource, device.arch(), codegen::cuda::ImageKind::Cubin, "nos_roofline.cu");
    codegen::cuda::Module module(image.image);
    void* function = module.function("nos_roofline");
    kernel = new Loaded(
        Loaded{std::move(module), function, static_cast<unsigned int>(device.multiprocessors) * kBlocksPerMultiprocessor});
  });
  return *kernel;
}

}  // namespace

void roofline_cuda(float* w, const float* g, float* const* states, int n_states, std::int64_t n, void* stream) {
  if (n_states < 0 || n_states > kMaxRooflineStates) throw std::invalid_argument("roofline: 0 to 3 state arrays");
  const Loaded& k = loaded();
  float* s[kMaxRooflineStates] = {nullptr, nullptr, nullptr};
  for (int i = 0; i < n_states; ++i) s[i] = states[i];
  long long count = n;
  void* args[] = {&w, &g, &s[0], &s[1], &s[2], &n_states, &count};
  codegen::cuda::launch_kernel(k.function, k.grid, kBlock, args, stream);
}

}  // namespace nos::bench
