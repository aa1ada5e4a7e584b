#include "benchmarks/nos_bench/roofline.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nos::bench {
namespace {

constexpr float kC = 1e-3f, kB = 0.9f;

template <int States>
__attribute__((always_inline)) inline void update(float* __restrict w, const float* __restrict g,
                                                  float* __restrict s0, float* __restrict s1,
                                                  float* __restrict s2, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) {
    float gi = g[i];
    if constexpr (States > 0) s0[i] = kB * s0[i] + (1 - kB) * gi;
    if constexpr (States > 1) s1[i] = kB * s1[i] + (1 - kB) * gi;
    if constexpr (States > 2) s2[i] = kB * s2[i] + (1 - kB) * gi;
    w[i] = w[i] - kC * gi;
  }
}

// One clone per vector width, picked at load time: the loop must not lose to NOS's kernels (built
// for this exact CPU) merely for being compiled for baseline x86-64. AVX2 at most, 256-bit vectors
// as NOS's CPU kernels use (kernel_module.cpp): on the AVX-512 host of docs/benchmarks.md a 512-bit
// clone streamed 12-15 % slower, and a "limit" slower than the code it judges measures nothing.
#if defined(__x86_64__) && defined(__GNUC__)
#define NOS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NOS_VECTOR_CLONES
#endif

NOS_VECTOR_CLONES void update_range(float* w, const float* g, float* const* s, int n_states, std::int64_t begin,
                                    std::int64_t end) {
  switch (n_states) {
    case 0: return update<0>(w, g, nullptr, nullptr, nullptr, begin, end);
    case 1: return update<1>(w, g, s[0], nullptr, nullptr, begin, end);
    case 2: return update<2>(w, g, s[0], s[1], nullptr, begin, end);
    default: return update<3>(w, g, s[0], s[1], s[2], begin, end);
  }
}

// Work is dealt in chunks the size of NOS's CPU kernel (CpuKernel::kChunkElements) from a shared
// counter, as that kernel deals them: on a machine shared with other work a static split would
// leave every step waiting for whichever thread got descheduled, and the "limit" would measure the
// scheduler. On an idle machine dynamic chunks of 256 KiB per array cost nothing measurable.
constexpr std::int64_t kChunk = 65536;

}  // namespace

bool roofline_uses_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

void roofline_cpu(float* w, const float* g, float* const* states, int n_states, std::int64_t n, int threads) {
  if (n_states < 0 || n_states > kMaxRooflineStates) throw std::invalid_argument("roofline: 0 to 3 state arrays");
  threads = std::max(1, threads);
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  auto chunk = [&](std::int64_t c) { update_range(w, g, states, n_states, c * kChunk, std::min(n, (c + 1) * kChunk)); };
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t c = 0; c < chunks; ++c) chunk(c);
#else
  std::atomic<std::int64_t> next{0};
  auto work = [&] {
    for (std::int64_t c = next++; c < chunks; c = next++) chunk(c);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
#endif
}

}  // namespace nos::bench
