// The exact float32 meaning of every DSL function, written once for host C++, LLVM and CUDA.
//
// The reference interpreter calls these functions, the CUDA code generator pastes this very file in
// front of its kernels, and the LLVM code generator links this file compiled to bitcode
// (compiler/codegen/llvm/kernel_runtime.cpp). Every function is made of IEEE float32 + - * /, sqrt
// and fma (correctly rounded everywhere), comparisons, selects and integer bit operations: no libm
// but fmaf where a CPU lacks FMA, no multiply-add contracted by a compiler (the project builds with
// -ffp-contract=off, NVRTC with --fmad=false; the only fma is the one nos_two_prod writes), no
// branch that a vectorizer could not turn into a select. So all three backends agree bit for bit,
// and the LLVM loop vectorizer can vectorize exp, log and pow (a libm call would be scalarized).
//
// Accuracy of our own transcendental functions, measured against the exact value (double-precision
// std::exp/std::log/std::pow), in units in the last place of the float32 result:
//   nos_expf_impl  0.652 ulp max over every float32 input (exhaustive) whose result is normal;
//                  0.767 ulp where the result is denormal (rounded twice: once before scaling).
//   nos_logf_impl  0.835 ulp max over every positive float32 input (exhaustive), denormals included.
//   nos_powf_impl  0.645 ulp max (normal results), 0.771 ulp (denormal results) over 4 million
//                  random (a, y) covering every binade of a, a within 2^-10 of 1, and every
//                  non-saturating y log2 a in [-150, 150]. log2 a is computed as a double-float
//                  (~2^-40 relative), so the error does not grow with |y log2 a|.
// So: exp, log and pow are within 1 ulp everywhere (faithfully rounded), usually correctly rounded.
// tests/codegen_llvm/math_test.cpp re-measures these on millions of inputs and asserts them.
// Special values follow C99 Annex F: exp(-inf) = 0, exp(+inf) = inf, exp overflows to inf past
// 88.72; log(0) = -inf, log(inf) = inf, log(x < 0) = NaN; pow(a, 0) = pow(1, y) = 1,
// pow(0, y > 0) = 0, pow(0, y < 0) = inf, pow(inf, y) and pow(a, +-inf) by the usual limits,
// NaN in, NaN out otherwise. NaN payloads are not specified.
//
// Branch-free means every `c ? a : b` chooses between values already computed (variables or
// constants, never a nested ?: or an expression): compilers then emit a select, where an arm with
// work in it becomes a branch that optimizers sink the work into, and the loop stops vectorizing.
//
// Keep this file free of includes and of anything NVRTC cannot compile. NOS_HD may be predefined:
// the LLVM runtime defines it as `extern "C"` to get one linkable definition per function.
#ifndef NOS_DSL_SEMANTICS_H
#define NOS_DSL_SEMANTICS_H

#ifndef NOS_HD
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define NOS_HD __host__ __device__ __forceinline__
#else
#define NOS_HD inline
#endif
#endif

// ---- Bit access and the IEEE-exact primitives ------------------------------------------------

NOS_HD unsigned int nos_bits(float x) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return __float_as_uint(x);
#else
  return __builtin_bit_cast(unsigned int, x);
#endif
}

NOS_HD float nos_from_bits(unsigned int u) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return __uint_as_float(u);
#else
  return __builtin_bit_cast(float, u);
#endif
}

NOS_HD float nos_fabsf(float x) { return nos_from_bits(nos_bits(x) & 0x7fffffffu); }

NOS_HD float nos_sqrtf(float x) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return sqrtf(x);  // correctly rounded unless compiled with --prec-sqrt=false
#else
  return __builtin_sqrtf(x);
#endif
}

// 2^n for n in [-126, 127], built from its bits.
NOS_HD float nos_exp2i(int n) { return nos_from_bits((unsigned int)(n + 127) << 23); }

// round(t) for |t| < 2^22 with round-half-even, as a float: adding 1.5 * 2^23 leaves the integer
// in the low mantissa bits. Its integer value is nos_bits(t + 0x1.8p23f) - 0x4b400000.
NOS_HD float nos_round_shifted(float t) { return t + 0x1.8p23f; }
NOS_HD int nos_shifted_int(float shifted) { return (int)(nos_bits(shifted) - 0x4b400000u); }

// p * 2^n for n in [-160, 140], rounded once: the first factor is exact for p in [0.5, 2], the
// second rounds into the denormal range or to infinity exactly as the true product would.
NOS_HD float nos_scale(float p, int n) {
  int half = n / 2;
  return p * nos_exp2i(half) * nos_exp2i(n - half);
}

// ---- Double-float arithmetic (an unevaluated sum hi + lo), for pow's extra precision --------

struct nos_df {
  float hi, lo;
};

// a + b exactly (Knuth's TwoSum, any magnitudes).
NOS_HD nos_df nos_two_sum(float a, float b) {
  float s = a + b;
  float bb = s - a;
  nos_df r = {s, (a - (s - bb)) + (b - bb)};
  return r;
}

// a + b exactly when |a| >= |b| or a == 0 (Dekker's Fast2Sum).
NOS_HD nos_df nos_fast_two_sum(float a, float b) {
  float s = a + b;
  nos_df r = {s, b - (s - a)};
  return r;
}

// a * b exactly: the rounding error of a product is itself a float, and an explicit fused
// multiply-add (one rounding, the same in every backend) yields it. Only ever written out, never
// contracted by a compiler.
NOS_HD float nos_fmaf(float a, float b, float c) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return fmaf(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}

NOS_HD nos_df nos_two_prod(float a, float b) {
  float p = a * b;
  nos_df r = {p, nos_fmaf(a, b, -p)};
  return r;
}

// (a.hi + a.lo) * (b.hi + b.lo) to about 2^-44 relative.
NOS_HD nos_df nos_df_mul(nos_df a, nos_df b) {
  nos_df p = nos_two_prod(a.hi, b.hi);
  return nos_fast_two_sum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

// (a.hi + a.lo) + (b.hi + b.lo) to about 2^-44 relative when no cancellation is deep.
NOS_HD nos_df nos_df_add(nos_df a, nos_df b) {
  nos_df s = nos_two_sum(a.hi, b.hi);
  return nos_fast_two_sum(s.hi, s.lo + (a.lo + b.lo));
}

// ---- exp, log, pow ---------------------------------------------------------------------------

// exp(hi + lo) for |hi| <= 0.36, |lo| <= 2^-16 |hi| or tiny, rounded once: 1 + hi is kept exact
// and everything smaller is added to its low part before the one final rounding.
NOS_HD float nos_exp_reduced(float hi, float lo) {
  // exp(x) = 1 + x + x^2 P(x) on |x| <= ln2/2 (Cephes expf coefficients, relative error 2^-30).
  float p = 1.9875691500e-4f;
  p = p * hi + 1.3981999507e-3f;
  p = p * hi + 8.3334519073e-3f;
  p = p * hi + 4.1665795894e-2f;
  p = p * hi + 1.6666665459e-1f;
  p = p * hi + 5.0000001201e-1f;
  nos_df one_plus = nos_two_sum(1.0f, hi);
  // exp(hi + lo) = exp(hi) (1 + lo + ...) and exp(hi) ~ 1 + hi is enough for the lo term.
  float tail = (hi * hi) * p + (lo + lo * hi);
  return one_plus.hi + (one_plus.lo + tail);
}

NOS_HD float nos_expf_impl(float x) {
  // Clamp to where the result is still 0 < e^x < inf after rounding; NaN passes through.
  float above = x < -104.0f ? -104.0f : x;
  float xc = x > 88.8f ? 88.8f : above;
  float shifted = nos_round_shifted(xc * 1.44269502f);
  float n = shifted - 0x1.8p23f;
  // Cody-Waite: ln2 = 0x1.62e4p-1 + 0x1.7f7d1cp-20, whose high part has 16 bits, so n * high is
  // exact for |n| <= 255 and xc - n * high is exact (Sterbenz). The low product is an error term.
  nos_df r = nos_two_sum(xc - n * 0x1.62e4p-1f, -(n * 0x1.7f7d1cp-20f));
  return nos_scale(nos_exp_reduced(r.hi, r.lo), nos_shifted_int(shifted));
}

// log(x) for x >= 0 (fdlibm's logf, its branches made selects): x = 2^k m with m in
// [sqrt(2)/2, sqrt(2)), f = m - 1, s = f / (2 + f), log(m) = f - f^2/2 + s (f^2/2 + R(s^2)).
NOS_HD float nos_logf_impl(float x) {
  float inf = nos_from_bits(0x7f800000u);
  bool denormal = x < 0x1p-126f;
  float scaled = x * 0x1p25f;
  unsigned int ix = nos_bits(denormal ? scaled : x);
  int k = (int)(ix >> 23) - (denormal ? 127 + 25 : 127);
  unsigned int mantissa = ix & 0x007fffffu;
  unsigned int upper = (mantissa + 0x4afb20u) & 0x800000u;  // set when 1.mantissa >= sqrt(2)
  k += (int)(upper >> 23);
  float f = nos_from_bits(mantissa | (upper ^ 0x3f800000u)) - 1.0f;  // m - 1, exact
  float s = f / (2.0f + f);
  float z = s * s;
  float w = z * z;
  float r = z * (0x1.555554p-1f + w * 0x1.23d3dcp-2f) + w * (0x1.999c26p-2f + w * 0x1.f13c4cp-3f);
  float hfsq = 0.5f * f * f;
  float dk = (float)k;
  // ln2 = 0x1.62e3p-1 + 0x1.2fefa2p-17: dk * high is exact for |k| < 2^8.
  float result = dk * 0x1.62e3p-1f - ((hfsq - (s * (hfsq + r) + dk * 0x1.2fefa2p-17f)) - f);
  float minus_inf = -inf, nan = nos_from_bits(0x7fc00000u);
  result = x == inf ? inf : result;
  result = x == 0.0f ? minus_inf : result;
  return ((x < 0.0f) | (x != x)) ? nan : result;
}

// log2(a) as a double-float for finite a > 0, to about 2^-40 relative: the extra bits keep
// y * log2(a) accurate to well under 2^-24 absolute when it is large.
NOS_HD nos_df nos_log2_df(float a) {
  bool denormal = a < 0x1p-126f;
  float scaled = a * 0x1p24f;
  unsigned int ia = nos_bits(denormal ? scaled : a);
  int k = (int)(ia >> 23) - (denormal ? 127 + 24 : 127);
  unsigned int mantissa = ia & 0x007fffffu;
  unsigned int upper = (mantissa + 0x4afb20u) & 0x800000u;
  k += (int)(upper >> 23);
  float m = nos_from_bits(mantissa | (upper ^ 0x3f800000u));
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1) in [-0.1716, 0.1716]; s as a double-float.
  float f = m - 1.0f;  // exact (Sterbenz)
  nos_df d = nos_two_sum(m, 1.0f);
  float s_hi = f / d.hi;
  nos_df q = nos_two_prod(s_hi, d.hi);
  float s_lo = (((f - q.hi) - q.lo) - s_hi * d.lo) / d.hi;
  nos_df s = {s_hi, s_lo};
  // log2(m) = s (C1 + s^2 (C3 + s^2 Q(s^2))), C1 = 2/ln2, C3 = 2/(3 ln2) as double-floats,
  // Q the Taylor series 2/((2j+1) ln2) to s^8 (truncation < 2^-41).
  nos_df s2 = nos_df_mul(s, s);
  float z = s2.hi;
  float tail = 0x1.c68f56p-3f;
  tail = tail * z + 0x1.0c9a84p-2f;
  tail = tail * z + 0x1.484b14p-2f;
  tail = tail * z + 0x1.a61762p-2f;
  tail = tail * z + 0x1.2776c6p-1f;
  nos_df c3 = nos_fast_two_sum(0x1.ec709ep-1f, -0x1.e2fep-28f + z * tail);
  nos_df c1 = {0x1.715476p+1f, 0x1.4ae0cp-25f};
  nos_df log2m = nos_df_mul(s, nos_df_add(c1, nos_df_mul(s2, c3)));
  return nos_df_add({(float)k, 0.0f}, log2m);
}

// a^y for a >= 0 (nos_pow passes |x|): 2^(y log2 a) with y log2 a as a double-float.
NOS_HD float nos_powf_impl(float a, float y) {
  float inf = nos_from_bits(0x7f800000u);
  // Past 2^64, |y log2 a| exceeds 2^40 for every float a != 1: clamping keeps the splits finite.
  float above = y < -0x1p64f ? -0x1p64f : y;
  float yc = y > 0x1p64f ? 0x1p64f : above;
  nos_df l = nos_log2_df(a);
  nos_df z = nos_two_prod(yc, l.hi);
  z = nos_fast_two_sum(z.hi, z.lo + yc * l.lo);
  // Clamp to where 2^z is 0 or inf after rounding; the low part is meaningless once clamped.
  bool clamped = (z.hi > 140.0f) | (z.hi < -160.0f);
  float z_above = z.hi < -160.0f ? -160.0f : z.hi;
  float zc = z.hi > 140.0f ? 140.0f : z_above;
  float zl = clamped ? 0.0f : z.lo;
  float shifted = nos_round_shifted(zc);
  float r = zc - (shifted - 0x1.8p23f);  // exact, |r| <= 1/2
  // 2^(r + zl) = e^((r + zl) ln2), with (r + zl) ln2 as a double-float.
  nos_df x = nos_two_prod(r, 0x1.62e43p-1f);
  x = nos_fast_two_sum(x.hi, x.lo + (r * -0x1.05c61p-29f + zl * 0x1.62e43p-1f));
  float result = nos_scale(nos_exp_reduced(x.hi, x.lo), nos_shifted_int(shifted));
  // Special cases, last one wins: infinities and zero, NaN, then the exact ones.
  bool limit = (a == 0.0f) | (a == inf) | (y == inf) | (y == -inf);
  float limit_value = (a < 1.0f) != (y < 0.0f) ? 0.0f : inf;
  float nan = nos_from_bits(0x7fc00000u);
  result = limit ? limit_value : result;
  result = ((a != a) | (y != y) | (a < 0.0f)) ? nan : result;
  return ((y == 0.0f) | (a == 1.0f)) ? 1.0f : result;
}

// ---- The DSL's functions (vocabulary.cpp's c_function column) --------------------------------

NOS_HD float nos_id(float x) { return x; }
NOS_HD float nos_neg(float x) { return -x; }
NOS_HD float nos_exp(float x) { return nos_expf_impl(x); }
NOS_HD float nos_log(float x) { return nos_logf_impl(nos_fabsf(x)); }  // log|x|
NOS_HD float nos_sqrt(float x) { return nos_sqrtf(nos_fabsf(x)); }     // sqrt|x|
// sign(0) = 0; NaN stays NaN so that divergence is never hidden.
NOS_HD float nos_sign(float x) {
  float negative = x < 0.0f ? -1.0f : x;
  return x > 0.0f ? 1.0f : negative;
}
// Clamp to [-l, l]; written with comparisons (not fminf/fmaxf) so NaN propagates.
NOS_HD float nos_clip(float x, float l) {
  float minus_l = -l;
  float below = x > l ? l : x;
  return x < minus_l ? minus_l : below;
}
// Zero with probability p, given a uniform draw u in [0, 1); no rescaling (NOS choice).
NOS_HD float nos_drop(float x, float p, float u) { return u < p ? 0.0f : x; }
NOS_HD float nos_add(float x, float y) { return x + y; }
NOS_HD float nos_sub(float x, float y) { return x - y; }
NOS_HD float nos_mul(float x, float y) { return x * y; }
// x / (y + delta): delta keeps the rule finite where y vanishes.
NOS_HD float nos_div(float x, float y, float delta) { return x / (y + delta); }
// sign(x) * |x|^y, so that negative bases are defined (NOS choice). pow(0, y < 0) = 0 * inf = NaN.
NOS_HD float nos_pow(float x, float y) { return nos_sign(x) * nos_powf_impl(nos_fabsf(x), y); }
NOS_HD float nos_keep(float x, float y) { (void)y; return x; }

// f(x) for an x that can only be -1, +-0, 1 or NaN (a product of signs), given f's four values:
// code generation replaces costly functions of sign products by this (compiler/passes/sign_lookup.cpp).
NOS_HD float nos_sign_lookup(float x, float negative, float zero, float positive, float nan) {
  float above = x > 0.0f ? positive : nan;
  float not_below = x == 0.0f ? zero : above;
  return x < 0.0f ? negative : not_below;
}

// One step of an exponential moving average: beta * a + (1 - beta) * x.
NOS_HD float nos_mavg(float a, float x, float beta) { return beta * a + (1.0f - beta) * x; }

#endif  // NOS_DSL_SEMANTICS_H
