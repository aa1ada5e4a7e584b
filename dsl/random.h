// Counter-based random numbers keyed by (seed, step, tensor, stream, element).
//
// drop, eps and noise draw from here. The generator is integer-only (splitmix64 finalizers), and the
// normal sample is an Irwin-Hall sum of twelve 16-bit uniforms, so every backend (interpreter, LLVM,
// CUDA) produces the same bits with no math-library call. The normal is exact to the variance and
// bounded at +-6 sigma, which is what an optimizer's noise term needs.
// Like semantics.h this file is pasted into CUDA kernels: no includes, no std types.
#ifndef NOS_DSL_RANDOM_H
#define NOS_DSL_RANDOM_H

#ifndef NOS_HD
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define NOS_HD __host__ __device__ __forceinline__
#else
#define NOS_HD inline
#endif
#endif

NOS_HD unsigned long long nos_mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One key per (seed, step, tensor, stream): computed once per kernel call, not per element.
NOS_HD unsigned long long nos_rng_key(unsigned long long seed, unsigned int step, unsigned int tensor,
                                      unsigned int stream) {
  unsigned long long k = nos_mix64(seed + 0x9E3779B97F4A7C15ull);
  k = nos_mix64(k ^ (unsigned long long)step);
  return nos_mix64(k ^ (((unsigned long long)tensor << 32) | (unsigned long long)stream));
}

NOS_HD unsigned long long nos_rng_bits(unsigned long long key, unsigned long long element,
                                       unsigned int draw) {
  return nos_mix64(key + (element * 4ull + (unsigned long long)draw) * 0x9E3779B97F4A7C15ull);
}

// Uniform in [0, 1) with 24 random bits: exact in float32.
NOS_HD float nos_uniform(unsigned long long key, unsigned long long element) {
  return (float)(unsigned int)(nos_rng_bits(key, element, 0) >> 40) * 5.9604644775390625e-08f;
}

// Standard normal (Irwin-Hall, 12 uniforms): the integer sum is exact, so is the one conversion.
NOS_HD float nos_normal(unsigned long long key, unsigned long long element) {
  unsigned int sum = 0;
  for (unsigned int draw = 0; draw < 3; ++draw) {
    unsigned long long b = nos_rng_bits(key, element, draw);
    sum += (unsigned int)(b & 0xFFFFull) + (unsigned int)((b >> 16) & 0xFFFFull) +
           (unsigned int)((b >> 32) & 0xFFFFull) + (unsigned int)(b >> 48);
  }
  return ((float)sum - 393210.0f) * 1.52587890625e-05f;  // (sum - 12 * 32767.5) / 65536
}

#endif  // NOS_DSL_RANDOM_H
