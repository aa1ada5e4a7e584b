// The exact float32 meaning of every DSL function, written once for host C++, LLVM and CUDA.
//
// The reference interpreter calls these functions, the CUDA code generator pastes this very file in
// front of its kernels, and the LLVM code generator links this file compiled to bitcode
// (compiler/codegen/llvm/kernel_runtime.cpp). Every function is made of IEEE float32 + - * /, sqrt
// and fma, IEEE double + - * / and fma and the conversions between float, double and int (all
// correctly rounded everywhere), comparisons, selects and integer bit operations: no libm but
// fma/fmaf where a CPU lacks FMA, no multiply-add contracted by a compiler (the project builds with
// -ffp-contract=off, NVRTC with --fmad=false; the only fmas are the ones pow writes), no
// branch that a vectorizer could not turn into a select. So all three backends agree bit for bit,
// and the LLVM loop vectorizer can vectorize exp, log and pow (a libm call would be scalarized).
//
// Accuracy of our own transcendental functions, measured against the exact value (double-precision
// std::exp/std::log/std::pow), in units in the last place of the float32 result:
//   nos_expf_impl  0.652 ulp max over every float32 input (exhaustive) whose result is normal;
//                  0.767 ulp where the result is denormal (rounded twice: once before scaling).
//   nos_logf_impl  0.835 ulp max over every positive float32 input (exhaustive), denormals included.
//   nos_powf_impl  0.506 ulp max (normal and denormal results) over 24 million random (a, y)
//                  covering every binade of a, a within 2^-10 of 1, and every non-saturating
//                  y log2 a in [-150, 150]: computed in double and rounded once, it is correctly
//                  rounded except within 0.006 ulp of a halfway point.
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

// ---- Double-float arithmetic (an unevaluated sum hi + lo), for exp's reduced argument ------

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

// ---- exp, log ---------------------------------------------------------------------------

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

// ---- pow, in double precision -------------------------------------------------------------
// IEEE double + - * / and fma round the same in every backend, like float's; converting a double
// to float rounds once, denormal results included. So pow works in double: 2^(y log2 a) with
// log2 a to about 2^-37 relative and 2^r to 2^-33, then one rounding to float32.

NOS_HD unsigned long long nos_bits64(double x) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return (unsigned long long)__double_as_longlong(x);
#else
  return __builtin_bit_cast(unsigned long long, x);
#endif
}

NOS_HD double nos_from_bits64(unsigned long long u) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return __longlong_as_double((long long)u);
#else
  return __builtin_bit_cast(double, u);
#endif
}

// a * b + c rounded once (written out, never contracted by a compiler).
NOS_HD double nos_fma(double a, double b, double c) {
#if defined(__CUDA_ARCH__) || defined(__CUDACC_RTC__)
  return fma(a, b, c);
#else
  return __builtin_fma(a, b, c);
#endif
}

// log2(a) for finite a > 0, to about 2^-37 relative (exact for powers of two).
NOS_HD double nos_log2_double(float a) {
  // a = 2^k m with m in [sqrt(2)/2, sqrt(2)), as in nos_logf_impl.
  bool denormal = a < 0x1p-126f;
  float scaled = a * 0x1p24f;
  unsigned int ia = nos_bits(denormal ? scaled : a);
  int k = (int)(ia >> 23) - (denormal ? 127 + 24 : 127);
  unsigned int mantissa = ia & 0x007fffffu;
  unsigned int upper = (mantissa + 0x4afb20u) & 0x800000u;  // set when 1.mantissa >= sqrt(2)
  k += (int)(upper >> 23);
  double m = (double)nos_from_bits(mantissa | (upper ^ 0x3f800000u));
  // log2(m) = 2 atanh(s) / ln2 = s P(s^2), s = (m - 1) / (m + 1) in [-0.1716, 0.1716] (m - 1 and
  // m + 1 exact). P: Chebyshev fit of degree 4, relative error 2^-37.7 on [0, 0.02944].
  double s = (m - 1.0) / (m + 1.0);
  double z = s * s;
  double p = 0x1.5ce42aa8d1c0cp-2;
  p = nos_fma(p, z, 0x1.a58dc78dd320fp-2);
  p = nos_fma(p, z, 0x1.27777f54b0e3dp-1);
  p = nos_fma(p, z, 0x1.ec709d13ae363p-1);
  p = nos_fma(p, z, 0x1.71547652bed21p+1);
  return nos_fma(s, p, (double)k);
}

// a^y for a >= 0 (nos_pow passes |x|): 2^(y log2 a) in double, rounded once to float.
NOS_HD float nos_powf_impl(float a, float y) {
  float inf = nos_from_bits(0x7f800000u);
  double t = (double)y * nos_log2_double(a);  // |y log2 a| < 2^136: finite
  // Clamp to where 2^t is 0 or inf after rounding to float, written as x86's maxpd and minpd
  // (NaN becomes -160; only NaN inputs make t NaN, and their result is replaced below).
  double t_above = t > -160.0 ? t : -160.0;
  double tc = t_above < 140.0 ? t_above : 140.0;
  // tc = n + r, n = round(tc) (the shift leaves n in the low mantissa bits), |r| <= 1/2 exact.
  double shifted = tc + 0x1.8p52;
  double r = tc - (shifted - 0x1.8p52);
  // 2^r = 1 + r R(r), R a Chebyshev fit of degree 6: relative error 2^-33 on [-1/2, 1/2].
  double q = 0x1.00a581594758ep-16;
  q = nos_fma(q, r, 0x1.443fffc90db59p-13);
  q = nos_fma(q, r, 0x1.5d879ead06a82p-10);
  q = nos_fma(q, r, 0x1.3b2a1b7152befp-7);
  q = nos_fma(q, r, 0x1.c6b08d883dca1p-5);
  q = nos_fma(q, r, 0x1.ebfbe045f4d3cp-3);
  q = nos_fma(q, r, 0x1.62e42fefa39efp-1);
  q = nos_fma(q, r, 1.0);
  // 2^n from its bits: the low 12 bits of shifted's bits plus the bias are n + 1023 in [863, 1163].
  double two_n = nos_from_bits64((nos_bits64(shifted) + 1023u) << 52);
  float result = (float)(q * two_n);
  // Special cases, last one wins: infinities and zero, NaN, then the exact ones.
  bool limit = (a == 0.0f) | (a == inf) | (nos_fabsf(y) == inf);
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
