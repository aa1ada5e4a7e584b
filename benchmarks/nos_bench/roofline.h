// The memory-bandwidth limit an update rule is judged against, measured in the same run: a trivial
// update that reads w, g and `n_states` state arrays and writes w and the states, and nothing else:
// 4 (g) + 8 (w) + 8 per state bytes per float32 parameter, exactly what ir::bytes_per_param counts
// and what the rule's fused kernel must move at the least (12 B for sgd, 20 for one state, 28 for
// Adam).
//
// Why this and not a LibTorch op pattern: no ATen op updates w and several state arrays in one
// pass, so any op pattern moves more bytes than the rule needs (w.add_(g) then m.mul_(b).add_(g)
// reads g twice), and its time would flatter every kernel measured against it. One fused loop,
// compiled with -O3 for this CPU (256- and 512-bit variants, the faster chosen) and dealt in chunks
// to a persistent OpenMP team, is the fastest plain code for those bytes: the fair limit.
#pragma once

#include <cstdint>
#include <string>

namespace nos::bench {

inline constexpr int kMaxRooflineStates = 3;

inline int roofline_bytes_per_param(int n_states) { return 12 + 8 * n_states; }

// s_k <- b s_k + (1 - b) g for each state, w <- w - c g, over n elements on `threads` threads, with
// one of the loop's vector variants (0: baseline x86-64, always there; then 256- and 512-bit ones
// where the CPU has them).
void roofline_cpu(float* w, const float* g, float* const* states, int n_states, std::int64_t n, int threads,
                  int variant = 0);

// The variant that runs fastest on these arrays: each timed over 3 calls (which update the arrays
// as any call does). Which width streams faster depends on the CPU and on the number of arrays, so
// the limit is the fastest of them, chosen once per workload before any timed step.
int fastest_roofline_variant(float* w, const float* g, float* const* states, int n_states, std::int64_t n,
                             int threads);
int roofline_variant_count();
std::string roofline_variant_name(int variant);

// Whether roofline_cpu runs on a persistent OpenMP team (else it starts std::threads per call).
bool roofline_uses_openmp();

#ifdef NOS_BENCH_NVRTC
// The same update as one grid-stride CUDA kernel (NVRTC, for the current device), enqueued on
// `stream` (a CUstream; nullptr: the legacy default stream). Pointers are device pointers.
void roofline_cuda(float* w, const float* g, float* const* states, int n_states, std::int64_t n, void* stream);
#endif

}  // namespace nos::bench
