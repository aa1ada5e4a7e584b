// The whole CUDA kernel - the work split, the walk over tensor segments, vector and scalar paths -
// compiled as host C++ with a few definitions standing in for CUDA's, run block by block and
// thread by thread, and compared bit for bit with the reference interpreter. The threads of a
// block never synchronize or share memory, so running them one after the other is one of the
// orders the GPU may take; what the GPU alone can show (speed, f16 conversions in PTX) is gpu_test's.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/kernel_table.h"
#include "compiler/interpreter.h"
#include "host_compile.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

namespace {

// Enough of CUDA for the generated kernel: qualifiers vanish, the thread indices are globals the
// driver below sets, and the vector types are plain structs. asm() appears only in the f16
// conversions, which an f32 kernel never calls.
constexpr const char* kCudaOnHost = R"(
#include <cstring>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define asm(...) ((void)0)
struct nos_dim3 { unsigned int x, y, z; };
static nos_dim3 blockIdx, threadIdx, blockDim, gridDim;
struct float4 { float x, y, z, w; };
struct uint2 { unsigned int x, y; };
static inline float4 make_float4(float a, float b, float c, float d) { return float4{a, b, c, d}; }
static inline uint2 make_uint2(unsigned int a, unsigned int b) { return uint2{a, b}; }
static inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
)";

// Launches `grid` blocks (more than the split's blocks: the extra ones must do nothing).
constexpr const char* kDriver = R"(
extern "C" void run_grid(const NosKernelTensor* tensors, const NosKernelSplit* splits, unsigned int num_blocks,
                         unsigned int grid, NosKernelStep step) {
  gridDim = nos_dim3{grid, 1, 1};
  blockDim = nos_dim3{NOS_BLOCK_THREADS, 1, 1};
  for (unsigned int b = 0; b < grid; ++b)
    for (unsigned int t = 0; t < NOS_BLOCK_THREADS; ++t) {
      blockIdx = nos_dim3{b, 0, 0};
      threadIdx = nos_dim3{t, 0, 0};
      nos_kernel(tensors, splits, num_blocks, step);
    }
}
)";
using RunGrid = void (*)(const KernelTensor*, const KernelSplit*, unsigned int, unsigned int, KernelStep);

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Sizes: one element, fewer than 4, 4, a vector body plus tail, empty, a share quantum, one more,
// several plus a tail. Every third tensor's pointers are one float off 16-byte alignment, so that
// its segments take the scalar path.
constexpr std::int64_t kSizes[] = {1, 3, 4, 5, 0, 17, 1000, kShareQuantum, kShareQuantum + 1, 3 * kShareQuantum + 7};

struct HostTensor {
  std::vector<float> w_buf, g_buf;
  std::vector<std::vector<float>> s_buf;
  int offset = 0;  // 0 or 1 float into each buffer
  std::int64_t n = 0;
  float* w() { return w_buf.data() + offset; }
  float* g() { return g_buf.data() + offset; }
  float* s(std::size_t k) { return s_buf[k].data() + offset; }
};

// Every rule over kSizes' tensors for three steps, each step split for another block count.
int check_rules(const std::vector<test::TestRule>& rules, const std::string& stem) {
  int failing = 0;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const ir::Function& f = rules[r].f;
    test::HostLibrary library(kCudaOnHost + kernel_source(f, DType::F32, "nos_kernel") + kDriver,
                              stem + std::to_string(r));
    auto run = reinterpret_cast<RunGrid>(library.symbol("run_grid"));
    std::mt19937 rng(static_cast<unsigned>(77 + r));
    std::normal_distribution<float> normal(0.0f, 1.0f);

    std::vector<HostTensor> dev(std::size(kSizes));
    std::vector<std::vector<float>> w_ref(std::size(kSizes));
    std::vector<std::vector<std::vector<float>>> s_ref(std::size(kSizes));
    std::vector<KernelTensor> table;
    for (std::size_t k = 0; k < std::size(kSizes); ++k) {
      HostTensor& t = dev[k];
      t.n = kSizes[k];
      t.offset = k % 3 == 2 ? 1 : 0;
      t.w_buf.assign(t.n + 4, 0.0f);
      t.g_buf.assign(t.n + 4, 0.0f);
      for (std::int64_t i = 0; i < t.n; ++i) t.w()[i] = normal(rng);
      w_ref[k].assign(t.w(), t.w() + t.n);
      for (std::size_t s = 0; s < f.states.size(); ++s) {
        t.s_buf.emplace_back(t.n + 4, 0.0f);
        s_ref[k].emplace_back(t.n, 0.0f);
      }
      KernelTensor kt{};
      kt.w = t.w();
      kt.g = t.g();
      for (std::size_t s = 0; s < f.states.size(); ++s) kt.state[s] = t.s(s);
      kt.numel = t.n;
      kt.tensor_id = static_cast<std::uint32_t>(5 + k);
      table.push_back(kt);
    }
    // operator new aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16 on x86-64): offset 0 is the vector path.
    for (HostTensor& t : dev)
      if (t.offset == 0 && t.n > 0) REQUIRE(reinterpret_cast<std::uintptr_t>(t.w()) % 16 == 0);
    std::string mismatch;
    const std::uint32_t block_counts[] = {1056, 3, 1};
    for (std::uint32_t step_index = 1; step_index <= 3 && mismatch.empty(); ++step_index) {
      const std::vector<KernelSplit> splits = make_splits(table, block_counts[step_index - 1]);
      const KernelStep step = codegen::make_step(f, 0.05f, step_index, 20, 1234);
      for (std::size_t k = 0; k < dev.size(); ++k)
        for (std::int64_t i = 0; i < dev[k].n; ++i) dev[k].g()[i] = normal(rng) * (step_index == 2 ? 1e-3f : 1.0f);
      const auto num_blocks = static_cast<unsigned int>(splits.size() - 1);
      run(table.data(), splits.data(), num_blocks, num_blocks + 2, step);
      for (std::size_t k = 0; k < dev.size() && mismatch.empty(); ++k) {
        ir::StepContext ctx{step_index, 20, step.lr, step.seed, table[k].tensor_id};
        std::vector<float*> states;
        for (auto& s : s_ref[k]) states.push_back(s.data());
        ir::interpret_step(f, ctx, w_ref[k].data(), dev[k].g(), states, dev[k].n);
        for (std::int64_t i = 0; i < dev[k].n && mismatch.empty(); ++i) {
          if (!same_bits(dev[k].w()[i], w_ref[k][i]))
            mismatch = "step " + std::to_string(step_index) + " tensor " + std::to_string(k) + " w[" +
                       std::to_string(i) + "]: kernel " + std::to_string(dev[k].w()[i]) + ", interpreter " +
                       std::to_string(w_ref[k][i]);
          for (std::size_t s = 0; s < f.states.size() && mismatch.empty(); ++s)
            if (!same_bits(dev[k].s(s)[i], s_ref[k][s][i]))
              mismatch = "step " + std::to_string(step_index) + " tensor " + std::to_string(k) + " state " +
                         std::to_string(s) + "[" + std::to_string(i) + "]";
        }
        // Nothing outside the tensor is written (the padding after it stays 0).
        for (int i = 0; i < 4 - dev[k].offset && mismatch.empty(); ++i)
          if (dev[k].w()[dev[k].n + i] != 0.0f) mismatch = "tensor " + std::to_string(k) + ": written past its end";
      }
    }
    if (!mismatch.empty() && ++failing <= 3) FAIL_CHECK("rule '" << rules[r].label << "': " << mismatch);
  }
  return failing;
}

}  // namespace

TEST_CASE("cuda kernel on the host: named rules over mixed tensors and splits match the interpreter") {
  CHECK(check_rules(test::named_rules(), "kernel_named") == 0);
}

TEST_CASE("cuda kernel on the host: random rules over mixed tensors and splits match the interpreter") {
  CHECK(check_rules(test::random_rules(77, 12, 1, 3), "kernel_random") == 0);
}
