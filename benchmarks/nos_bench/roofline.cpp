#include "benchmarks/nos_bench/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
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

using RangeFn = void (*)(float*, const float*, float* const*, int, std::int64_t, std::int64_t);

template <int States>
__attribute__((always_inline)) inline void update_states(float* w, const float* g, float* const* s,
                                                         std::int64_t begin, std::int64_t end) {
  update<States>(w, g, States > 0 ? s[0] : nullptr, States > 1 ? s[1] : nullptr, States > 2 ? s[2] : nullptr,
                 begin, end);
}

#define NOS_ROOFLINE_VARIANT(name, attributes)                                                            \
  attributes void name(float* w, const float* g, float* const* s, int n_states, std::int64_t begin,       \
                       std::int64_t end) {                                                                 \
    switch (n_states) {                                                                                    \
      case 0: return update_states<0>(w, g, s, begin, end);                                                \
      case 1: return update_states<1>(w, g, s, begin, end);                                                \
      case 2: return update_states<2>(w, g, s, begin, end);                                                \
      default: return update_states<3>(w, g, s, begin, end);                                               \
    }                                                                                                      \
  }

NOS_ROOFLINE_VARIANT(update_range_baseline, )
// Vector variants, so the loop does not lose to NOS's kernels (built for this exact CPU) merely for
// being compiled for baseline x86-64; 256 and 512 bits both, since which streams faster depends on
// the CPU and on the number of arrays (AMD family 26: SGD's two arrays faster in 256 bits, NOS's
// 512-bit Adam faster than a 256-bit loop over Adam's four). The fastest is the limit.
// GCC takes the width in the target attribute; clang has no such attribute and uses each target's
// own preference.
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__clang__)
#define NOS_WIDTH(bits)
#else
#define NOS_WIDTH(bits) ",prefer-vector-width=" #bits
#endif
NOS_ROOFLINE_VARIANT(update_range_avx2, __attribute__((target("avx2" NOS_WIDTH(256)))))
NOS_ROOFLINE_VARIANT(update_range_avx512, __attribute__((target("avx512f" NOS_WIDTH(512)))))
#endif

struct Variant {
  const char* name;
  RangeFn fn;
};

// Index 0 is the baseline, always there: roofline_cpu's default.
const std::vector<Variant>& variants() {
  static const std::vector<Variant> all = [] {
    std::vector<Variant> out{{"baseline x86-64", update_range_baseline}};
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) out.push_back({"256-bit AVX2", update_range_avx2});
    if (__builtin_cpu_supports("avx512f")) out.push_back({"512-bit AVX-512", update_range_avx512});
#endif
    return out;
  }();
  return all;
}

// Work is dealt in chunks the size of NOS's CPU kernel (CpuKernel::kChunkElements) from a shared
// counter, as that kernel deals them: on a machine shared with other work a static split would
// leave every step waiting for whichever thread got descheduled, and the "limit" would measure the
// scheduler. On an idle machine dynamic chunks of 256 KiB per array cost nothing measurable.
constexpr std::int64_t kChunk = 65536;

void run_variant(RangeFn update_range, float* w, const float* g, float* const* states, int n_states, std::int64_t n,
                 int threads) {
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

}  // namespace

bool roofline_uses_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

int fastest_roofline_variant(float* w, const float* g, float* const* states, int n_states, std::int64_t n,
                             int threads) {
  int best = 0;
  double best_seconds = 0;
  for (int v = 0; v < roofline_variant_count(); ++v)
    for (int rep = 0; rep < 3; ++rep) {
      auto start = std::chrono::steady_clock::now();
      roofline_cpu(w, g, states, n_states, n, threads, v);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if ((v == 0 && rep == 0) || seconds < best_seconds) best = v, best_seconds = seconds;
    }
  return best;
}

int roofline_variant_count() { return static_cast<int>(variants().size()); }

std::string roofline_variant_name(int variant) {
  if (variant < 0 || variant >= roofline_variant_count())
    throw std::invalid_argument("roofline: no variant " + std::to_string(variant));
  return variants()[variant].name;
}

void roofline_cpu(float* w, const float* g, float* const* states, int n_states, std::int64_t n, int threads,
                  int variant) {
  if (n_states < 0 || n_states > kMaxRooflineStates) throw std::invalid_argument("roofline: 0 to 3 state arrays");
  if (variant < 0 || variant >= roofline_variant_count())
    throw std::invalid_argument("roofline: no variant " + std::to_string(variant));
  run_variant(variants()[variant].fn, w, g, states, n_states, n, std::max(1, threads));
}

}  // namespace nos::bench
