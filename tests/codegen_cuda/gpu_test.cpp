// On a real GPU: one launch of the fused kernel updates many tensors of awkward sizes and
// alignments (vector body, scalar tail, fully scalar chunks) in f32, bf16 and f16, and matches the
// interpreter bit for bit over several steps (bf16/f16: the interpreter's f32 step, rounded once).
// Prints [SKIP] (CTest: skipped) where there is no driver or device.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/cuda/cuda_kernel.h"
#include "compiler/interpreter.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

namespace {

bool skip_without_gpu() {
  std::string why;
  if (cuda_available(&why)) return false;
  MESSAGE("[SKIP] no usable CUDA device: " << why);
  return true;
}

bool same_bits(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, 4) == 0; }

// Host twins of the kernel's conversions: round to nearest even, as cvt.rn and torch do.
std::uint16_t to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
float from_bf16(std::uint16_t h) {
  std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
// Integer-only, so the test builds with compilers that lack _Float16.
std::uint16_t to_f16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return sign | 0x7e00u;                // NaN
  if (u >= 0x477ff000u) return sign | 0x7c00u;               // >= 65520 rounds to inf
  if (u >= 0x38800000u)                                      // normal: round the mantissa at bit 13
    return sign | static_cast<std::uint16_t>((u + 0xfffu + ((u >> 13) & 1u) - 0x38000000u) >> 13);
  // Subnormal or zero: multiples of 2^-24; the scaling is exact, nearbyint rounds half to even.
  return sign | static_cast<std::uint16_t>(std::nearbyint(std::fabs(x) * 0x1p24f));
}
float from_f16(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude = exponent == 0    ? std::ldexp(static_cast<float>(mantissa), -24)
                    : exponent == 31 ? (mantissa ? std::numeric_limits<float>::quiet_NaN()
                                                 : std::numeric_limits<float>::infinity())
                                     : std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

// Host values as the device stores them, and back.
std::vector<char> encode(const std::vector<float>& v, DType dtype) {
  std::vector<char> bytes(v.size() * element_bytes(dtype));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::F32) {
      std::memcpy(bytes.data() + 4 * i, &v[i], 4);
    } else {
      std::uint16_t h = dtype == DType::BF16 ? to_bf16(v[i]) : to_f16(v[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  return bytes;
}
std::vector<float> decode(const std::vector<char>& bytes, DType dtype) {
  std::vector<float> v(bytes.size() / element_bytes(dtype));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::F32) {
      std::memcpy(&v[i], bytes.data() + 4 * i, 4);
    } else {
      std::uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      v[i] = dtype == DType::BF16 ? from_bf16(h) : from_f16(h);
    }
  }
  return v;
}

// One array on the device, deliberately `offset` elements past an aligned allocation.
struct DeviceArray {
  DeviceBuffer buffer;
  std::size_t offset_bytes;
  DeviceArray(std::size_t numel, int elem_bytes, int offset)
      : buffer((numel + 8) * elem_bytes), offset_bytes(static_cast<std::size_t>(offset) * elem_bytes) {}
  void* data() const { return static_cast<char*>(buffer.data()) + offset_bytes; }
  void upload(const std::vector<char>& bytes) { buffer.upload(bytes.data(), bytes.size(), offset_bytes); }
  std::vector<char> download(std::size_t bytes) const {
    std::vector<char> out(bytes);
    buffer.download(out.data(), bytes, offset_bytes);
    return out;
  }
};

struct TestTensor {
  std::int64_t numel;
  std::uint32_t id;
  std::vector<float> w;                    // the reference: always a value the dtype represents
  std::vector<std::vector<float>> states;  // the reference states
  DeviceArray dw, dg;
  std::vector<DeviceArray> ds;
};

// Sizes hit: a single element, fewer than 4, exactly 4, a vector body plus tail, a whole share
// quantum, one more, several plus a tail, and more than a share of the default split. Offsets make
// some pointers unfit for vector access.
constexpr std::int64_t kSizes[] = {1, 3, 4, 5, 17, 1000, kShareQuantum, kShareQuantum + 1, 2 * kShareQuantum + 7,
                                   300007};

int check_rule(const test::TestRule& rule, DType dtype) {
  const ir::Function& f = rule.f;
  CudaKernel kernel = CudaKernel::compile(f, dtype);
  const int eb = element_bytes(dtype);
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);

  std::vector<TestTensor> tensors;
  for (std::size_t k = 0; k < std::size(kSizes); ++k) {
    const std::int64_t n = kSizes[k];
    TestTensor t{n, static_cast<std::uint32_t>(10 + 3 * k), {}, {}, DeviceArray(n, eb, k % 3 == 1 ? 1 : 0),
                 DeviceArray(n, eb, k % 4 == 2 ? 3 : 0), {}};
    t.w.resize(n);
    for (float& x : t.w) x = normal(rng);
    t.w = decode(encode(t.w, dtype), dtype);
    t.dw.upload(encode(t.w, dtype));
    for (std::size_t s = 0; s < f.states.size(); ++s) {
      t.states.emplace_back(n, 0.0f);
      t.ds.emplace_back(n, 4, k % 5 == 3 ? 1 : 0);
      t.ds.back().upload(encode(t.states.back(), DType::F32));
    }
    tensors.push_back(std::move(t));
  }
  std::vector<KernelTensor> table;
  for (const TestTensor& t : tensors) {
    KernelTensor kt{};
    kt.w = t.dw.data();
    kt.g = t.dg.data();
    for (std::size_t s = 0; s < t.ds.size(); ++s) kt.state[s] = static_cast<float*>(t.ds[s].data());
    kt.numel = t.numel;
    kt.tensor_id = t.id;
    table.push_back(kt);
  }
  KernelTable device_table;

  int mismatches = 0;
  for (std::uint32_t step_index = 1; step_index <= 3; ++step_index) {
    const KernelStep step = codegen::make_step(f, 0.05f, step_index, 20, 1234);
    std::vector<std::vector<float>> grads;
    for (TestTensor& t : tensors) {
      std::vector<float> g(t.numel);
      for (float& x : g) x = normal(rng) * (step_index == 2 ? 1e-3f : 1.0f);
      g = decode(encode(g, dtype), dtype);
      t.dg.upload(encode(g, dtype));
      grads.push_back(std::move(g));
    }
    // Step 1 fills the device; steps 2 and 3 deal the same tensors to 3 blocks and to 1, so that
    // shares start inside tensors and span many of them.
    const std::uint32_t blocks = step_index == 1 ? kernel.max_blocks() : step_index == 2 ? 3 : 1;
    device_table.update(table, blocks, nullptr);
    kernel.launch(device_table, step, nullptr);
    synchronize(nullptr);

    for (std::size_t k = 0; k < tensors.size(); ++k) {
      TestTensor& t = tensors[k];
      ir::StepContext ctx{step_index, 20, step.lr, step.seed, t.id};
      std::vector<float*> states;
      for (auto& s : t.states) states.push_back(s.data());
      ir::interpret_step(f, ctx, t.w.data(), grads[k].data(), states, t.numel);
      t.w = decode(encode(t.w, dtype), dtype);  // the device stores w in its dtype
      const std::vector<float> w = decode(t.dw.download(t.numel * eb), dtype);
      for (std::int64_t i = 0; i < t.numel; ++i)
        if (!same_bits(w[i], t.w[i]) && mismatches++ < 3)
          FAIL_CHECK(rule.label << " " << name(dtype) << " step " << step_index << " tensor " << k << " w[" << i
                                << "]: device " << w[i] << ", interpreter " << t.w[i]);
      for (std::size_t s = 0; s < t.states.size(); ++s) {
        const std::vector<float> st = decode(t.ds[s].download(t.numel * 4), DType::F32);
        for (std::int64_t i = 0; i < t.numel; ++i)
          if (!same_bits(st[i], t.states[s][i]) && mismatches++ < 3)
            FAIL_CHECK(rule.label << " " << name(dtype) << " step " << step_index << " tensor " << k << " state " << s
                                  << "[" << i << "]: device " << st[i] << ", interpreter " << t.states[s][i]);
      }
    }
  }
  return mismatches;
}

}  // namespace

TEST_CASE("gpu: fused kernel matches the interpreter over many tensors, dtypes and alignments") {
  if (skip_without_gpu()) return;
  MESSAGE("device: " << current_device().name << " (" << current_device().arch() << "), NVRTC " << nvrtc_version());
  std::vector<test::TestRule> rules = test::named_rules();
  for (test::TestRule& r : test::random_rules(99, 12, 1, 3)) rules.push_back(std::move(r));
  for (const test::TestRule& rule : rules)
    for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
      INFO(rule.label << " in " << name(dtype));
      CHECK(check_rule(rule, dtype) == 0);
    }
}

TEST_CASE("gpu: a cached image loads and an empty table launches nothing") {
  if (skip_without_gpu()) return;
  const ir::Function f = test::compile_text("adam").f;
  CudaKernel compiled = CudaKernel::compile(f, DType::F32);
  CudaKernel loaded = CudaKernel::load(compiled.image(), static_cast<int>(f.states.size()));
  KernelTable empty;
  empty.update({}, loaded.max_blocks(), nullptr);
  CHECK_NOTHROW(loaded.launch(empty, codegen::make_step(f, 0.1f, 1, 1, 0), nullptr));

  KernelTable missing_state;  // adam needs two state buffers
  DeviceBuffer w(16), g(16);
  KernelTensor t{};
  t.w = w.data();
  t.g = g.data();
  t.numel = 4;
  missing_state.update(std::vector<KernelTensor>{t}, loaded.max_blocks(), nullptr);
  CHECK_THROWS_AS(loaded.launch(missing_state, codegen::make_step(f, 0.1f, 1, 1, 0), nullptr), std::invalid_argument);
}
