// The functions every CPU kernel calls, compiled by clang++-16 to LLVM bitcode at build time (never
// by the host compiler) and embedded in nos_codegen_llvm. Kernel modules are built on top of this
// bitcode and call these functions by the names semantics.h gives them (the vocabulary's
// c_function column), so the JIT-compiled kernels run the very code the interpreter runs.
//
// NOS_HD = extern "C" turns every inline function of the two headers into one external definition
// with an unmangled name; the optimizer internalizes and inlines them all into the kernel.
#define NOS_HD extern "C"
#include "dsl/random.h"
#include "dsl/semantics.h"

// Written branch-free like semantics.h (every ?: picks between computed values).
// Storage conversions of bf16/f16 kernels (w and g; the math and the states stay float32), in
// integer operations so that they vectorize everywhere and round to nearest even exactly.

extern "C" float nos_bf16_to_f32(unsigned short h) { return nos_from_bits((unsigned int)h << 16); }

extern "C" unsigned short nos_f32_to_bf16(float x) {
  unsigned int u = nos_bits(x);
  unsigned int rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  // NaN: keep it a NaN (quiet) instead of letting the rounding carry turn it into infinity.
  unsigned int nan = (u >> 16) | 0x40u;
  return (unsigned short)(x != x ? nan : rounded);
}

extern "C" float nos_f16_to_f32(unsigned short h) {
  unsigned int sign = (unsigned int)(h & 0x8000u) << 16;
  unsigned int rest = (unsigned int)(h & 0x7fffu) << 13;  // exponent and mantissa, aligned
  unsigned int exponent = rest & 0x0f800000u;
  float normal = nos_from_bits(rest + ((127u - 15u) << 23));
  float special = nos_from_bits(rest + ((255u - 31u) << 23));  // inf and NaN
  // Denormal: 1.m 2^-14 computed then 2^-14 subtracted, both exact.
  float denormal = nos_from_bits(rest + ((127u - 15u + 1u) << 23)) - 0x1p-14f;
  float finite = exponent == 0 ? denormal : normal;
  float magnitude = exponent == 0x0f800000u ? special : finite;
  return nos_from_bits(nos_bits(magnitude) | sign);
}

extern "C" unsigned short nos_f32_to_f16(float x) {
  unsigned int u = nos_bits(x);
  unsigned int sign = (u >> 16) & 0x8000u;
  unsigned int a = u & 0x7fffffffu;
  // Overflow (>= 65520 rounds to inf), inf and NaN.
  unsigned int big = a > 0x7f800000u ? 0x7e00u : 0x7c00u;
  // Below 2^-14 the result is denormal: adding 0.5 makes the float adder round at 2^-24.
  unsigned int denormal = nos_bits(nos_from_bits(a) + 0.5f) - nos_bits(0.5f);
  // Normal: rebias, round to nearest even on the 13 dropped bits.
  unsigned int normal = (a + (((15u - 127u) << 23) + 0xfffu) + ((a >> 13) & 1u)) >> 13;
  unsigned int small = a < 0x38800000u ? denormal : normal;
  unsigned int magnitude = a >= 0x47800000u ? big : small;
  return (unsigned short)(magnitude | sign);
}
