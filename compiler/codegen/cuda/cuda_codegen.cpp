// The device side of cuda_codegen.h: the ABI mirror, element-type conversions, and the fused
// multi-tensor kernel around a rule's element function (rule_codegen.cpp).
#include "compiler/codegen/cuda/cuda_codegen.h"

#include <cstddef>
#include <string>

namespace nos::codegen::cuda {
namespace {

static_assert(sizeof(KernelSplit) == 16 && offsetof(KernelSplit, begin) == 8);
// The offsets the device mirror below assumes (it cannot check them itself).
static_assert(offsetof(KernelTensor, state) == 16 && offsetof(KernelTensor, numel) == 16 + 8 * kMaxStateSlots &&
              offsetof(KernelTensor, tensor_id) == 24 + 8 * kMaxStateSlots);
static_assert(offsetof(KernelStep, t) == 4 && offsetof(KernelStep, seed) == 8 && offsetof(KernelStep, inputs) == 16);

std::string str(std::size_t n) { return std::to_string(n); }

// The kernel_abi.h structs spelled for NVRTC (which cannot include host headers), with their layout
// pinned to the host compiler's so that a change on either side fails the NVRTC compile.
std::string abi_structs() {
  std::string s = R"(
// ---- kernel ABI: compiler/codegen/kernel_abi.h and cuda_codegen.h's KernelSplit ----
// Every rule kernel K(tensors, splits, num_blocks, NosKernelStep) has a twin K_at(..., const
// NosKernelStep*) that reads the step from device memory (CUDA graphs).
struct NosKernelTensor {
  void* w;
  const void* g;
  float* state[)" + str(kMaxStateSlots) + R"(];
  long long numel;
  unsigned int tensor_id;
  unsigned int reserved;
};
struct NosKernelStep {
  float lr;
  unsigned int t;
  unsigned long long seed;
  float inputs[)" + str(kMaxStepInputs) + R"(];
};
struct NosKernelSplit {
  unsigned int tensor;
  unsigned int reserved;
  long long begin;
};
)";
  // NVRTC has no offsetof; sizes and alignments catch a member added, removed or resized on one side.
  s += "static_assert(sizeof(NosKernelTensor) == " + str(sizeof(KernelTensor)) + " && alignof(NosKernelTensor) == " +
       str(alignof(KernelTensor)) + ", \"KernelTensor layout differs from the host's\");\n";
  s += "static_assert(sizeof(NosKernelStep) == " + str(sizeof(KernelStep)) + " && alignof(NosKernelStep) == " +
       str(alignof(KernelStep)) + ", \"KernelStep layout differs from the host's\");\n";
  s += "static_assert(sizeof(NosKernelSplit) == " + str(sizeof(KernelSplit)) + ", \"KernelSplit layout differs\");\n";
  s += "#define NOS_BLOCK_THREADS " + std::to_string(kBlockThreads) + "\n";
  return s;
}

// w and g may be f32, bf16 or f16; the math is always f32. Narrowing rounds to nearest even like
// torch's own conversions, so a bf16/f16 step equals the f32 interpreter's step rounded once.
constexpr const char* kElementTypes = R"(
// ---- element types: loads widen to f32, stores round to nearest even ----
struct nos_bf16 { unsigned short bits; };
struct nos_f16 { unsigned short bits; };

__device__ __forceinline__ float nos_bf16_to_f32(unsigned int bits) { return __uint_as_float(bits << 16); }
__device__ __forceinline__ unsigned short nos_f32_to_bf16(float x) {
  unsigned int u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);  // quiet NaN
  return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
__device__ __forceinline__ float nos_f16_to_f32(unsigned short bits) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
  return f;
}
__device__ __forceinline__ unsigned short nos_f32_to_f16(float x) {
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
  return h;
}

__device__ __forceinline__ float nos_load(const float* p) { return *p; }
__device__ __forceinline__ float nos_load(const nos_bf16* p) { return nos_bf16_to_f32(p->bits); }
__device__ __forceinline__ float nos_load(const nos_f16* p) { return nos_f16_to_f32(p->bits); }
__device__ __forceinline__ void nos_store(float* p, float x) { *p = x; }
__device__ __forceinline__ void nos_store(nos_bf16* p, float x) { p->bits = nos_f32_to_bf16(x); }
__device__ __forceinline__ void nos_store(nos_f16* p, float x) { p->bits = nos_f32_to_f16(x); }

// Four consecutive elements in one access: 16 bytes of f32 (float4) or 8 bytes of 16-bit values.
template <typename T>
__device__ __forceinline__ bool nos_aligned4(const T* p) {
  return ((unsigned long long)p & (4 * sizeof(T) - 1)) == 0;
}
__device__ __forceinline__ void nos_load4(const float* p, float* v) {
  const float4 q = *reinterpret_cast<const float4*>(p);
  v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
}
__device__ __forceinline__ void nos_store4(float* p, const float* v) {
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
__device__ __forceinline__ void nos_unpack4(uint2 q, unsigned short* h) {
  h[0] = (unsigned short)(q.x & 0xffffu); h[1] = (unsigned short)(q.x >> 16);
  h[2] = (unsigned short)(q.y & 0xffffu); h[3] = (unsigned short)(q.y >> 16);
}
__device__ __forceinline__ uint2 nos_pack4(const unsigned short* h) {
  return make_uint2((unsigned int)h[0] | ((unsigned int)h[1] << 16), (unsigned int)h[2] | ((unsigned int)h[3] << 16));
}
__device__ __forceinline__ void nos_load4(const nos_bf16* p, float* v) {
  unsigned short h[4];
  nos_unpack4(*reinterpret_cast<const uint2*>(p), h);
  for (int k = 0; k < 4; ++k) v[k] = nos_bf16_to_f32(h[k]);
}
__device__ __forceinline__ void nos_load4(const nos_f16* p, float* v) {
  unsigned short h[4];
  nos_unpack4(*reinterpret_cast<const uint2*>(p), h);
  for (int k = 0; k < 4; ++k) v[k] = nos_f16_to_f32(h[k]);
}
__device__ __forceinline__ void nos_store4(nos_bf16* p, const float* v) {
  unsigned short h[4];
  for (int k = 0; k < 4; ++k) h[k] = nos_f32_to_bf16(v[k]);
  *reinterpret_cast<uint2*>(p) = nos_pack4(h);
}
__device__ __forceinline__ void nos_store4(nos_f16* p, const float* v) {
  unsigned short h[4];
  for (int k = 0; k < 4; ++k) h[k] = nos_f32_to_f16(v[k]);
  *reinterpret_cast<uint2*>(p) = nos_pack4(h);
}
)";

const char* element_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return "float";
    case DType::BF16: return "nos_bf16";
    case DType::F16: return "nos_f16";
  }
  return "?";
}

// The kernel: block b updates its share, from splits[b] to splits[b + 1], one tensor segment after
// the other; threads take 4 elements at a time through vector accesses when every pointer allows it,
// then single elements for the rest of the segment.
std::string kernel(const ir::Function& f, DType dtype, const std::string& sym) {
  const std::size_t slots = f.states.size();
  auto each_slot = [&](auto text) {
    std::string s;
    for (std::size_t k = 0; k < slots; ++k) s += text(std::to_string(k));
    return s;
  };
  // The st[] initializer: each slot's value, e.g. {s0v[k], s1v[k]}; never an empty array.
  auto states_from = [&](const std::string& suffix) {
    if (slots == 0) return std::string("{0.0f}");
    std::string s = "{";
    for (std::size_t k = 0; k < slots; ++k) s += (k ? ", s" : "s") + std::to_string(k) + suffix;
    return s + "}";
  };
  const std::string st_size = slots == 0 ? "1" : std::to_string(slots);

  std::string s = "\n// Rule '" + f.name + "' on " + name(dtype) + " parameters: every tensor of the table in one launch.\n";
  // The body, then two entry points: SYM takes the step as an argument; SYM_at reads it from device
  // memory when it runs, so that one launch captured in a CUDA graph serves every step.
  s += "static __device__ __forceinline__ void " + sym +
       "_body(const NosKernelTensor* __restrict__ tensors,\n    const NosKernelSplit* __restrict__ splits, unsigned int "
       "num_blocks, const NosKernelStep step) {\n";
  s += "  if (blockIdx.x >= num_blocks) return;\n";
  s += "  typedef " + std::string(element_type(dtype)) + " elem_t;\n";
  s += "  float sv[" + sym + "_step_values > 0 ? " + sym + "_step_values : 1];\n";
  s += "  " + sym + "_step(step.inputs, sv);\n";
  s += "  const NosKernelSplit from = splits[blockIdx.x], to = splits[blockIdx.x + 1];\n";
  s += "  for (unsigned int t = from.tensor; t <= to.tensor; ++t) {\n";
  s += "    if (t == to.tensor && to.begin == 0) break;  // the share ends where tensor t starts\n";
  s += "    const NosKernelTensor& tensor = tensors[t];\n";
  s += "    const long long begin = t == from.tensor ? from.begin : 0;\n";
  s += "    const long long end = t == to.tensor ? to.begin : tensor.numel;\n";
  s += "    if (begin >= end) continue;\n";
  s += "    elem_t* __restrict__ w = static_cast<elem_t*>(tensor.w);\n";
  s += "    const elem_t* __restrict__ g = static_cast<const elem_t*>(tensor.g);\n";
  s += each_slot([](const std::string& k) { return "    float* __restrict__ s" + k + " = tensor.state[" + k + "];\n"; });
  s += "    unsigned long long key[" + sym + "_streams > 0 ? " + sym + "_streams : 1];\n";
  s += "    " + sym + "_keys(step.seed, step.t, tensor.tensor_id, key);\n";
  s += "    const bool vector = nos_aligned4(w) && nos_aligned4(g)" +
       each_slot([](const std::string& k) { return " && nos_aligned4(s" + k + ")"; }) + ";\n";
  s += "    const long long vector_end = vector ? begin + ((end - begin) & ~3LL) : begin;\n";
  s += "    for (long long i = begin + 4LL * threadIdx.x; i < vector_end; i += 4LL * blockDim.x) {\n";
  s += "      float wv[4], gv[4];\n";
  s += each_slot([](const std::string& k) { return "      float s" + k + "v[4];\n"; });
  s += "      nos_load4(w + i, wv);\n      nos_load4(g + i, gv);\n";
  s += each_slot([](const std::string& k) { return "      nos_load4(s" + k + " + i, s" + k + "v);\n"; });
  s += "#pragma unroll\n      for (int k = 0; k < 4; ++k) {\n";
  s += "        float st[" + st_size + "] = " + states_from("v[k]") + ";\n";
  s += "        wv[k] = " + sym + "_element(sv, key, step.lr, wv[k], gv[k], st, (unsigned long long)(i + k));\n";
  s += each_slot([](const std::string& k) { return "        s" + k + "v[k] = st[" + k + "];\n"; });
  s += "      }\n      nos_store4(w + i, wv);\n";
  s += each_slot([](const std::string& k) { return "      nos_store4(s" + k + " + i, s" + k + "v);\n"; });
  s += "    }\n";
  s += "    for (long long i = vector_end + threadIdx.x; i < end; i += blockDim.x) {\n";
  s += "      float st[" + st_size + "] = " + states_from("[i]") + ";\n";
  s += "      nos_store(w + i, " + sym +
       "_element(sv, key, step.lr, nos_load(w + i), nos_load(g + i), st, (unsigned long long)i));\n";
  s += each_slot([](const std::string& k) { return "      s" + k + "[i] = st[" + k + "];\n"; });
  s += "    }\n  }\n}\n";
  const std::string params = "(const NosKernelTensor* __restrict__ tensors,\n    const NosKernelSplit* __restrict__ splits, "
                             "unsigned int num_blocks, ";
  s += "extern \"C\" __global__ void __launch_bounds__(NOS_BLOCK_THREADS) " + sym + params + "NosKernelStep step) {\n  " +
       sym + "_body(tensors, splits, num_blocks, step);\n}\n";
  s += "extern \"C\" __global__ void __launch_bounds__(NOS_BLOCK_THREADS) " + sym + "_at" + params +
       "const NosKernelStep* __restrict__ step) {\n  " + sym + "_body(tensors, splits, num_blocks, *step);\n}\n";
  return s;
}

}  // namespace

std::string kernel_prelude() { return abi_structs() + kElementTypes; }

std::string kernel_function(const ir::Function& f, DType dtype, std::string_view symbol) {
  RuleCode code = rule_functions(f, symbol);
  return code.source + kernel(f, dtype, std::string(symbol));
}

std::string kernel_source(const ir::Function& f, DType dtype, std::string_view kernel_name) {
  return "// Generated by NOS (compiler/codegen/cuda) for rule '" + f.name + "', " + name(dtype) + ".\n" +
         host_device_prelude() + kernel_prelude() + kernel_function(f, dtype, kernel_name);
}

}  // namespace nos::codegen::cuda
