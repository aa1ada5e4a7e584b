// 2000 seeded random rules (1-3 groups) through the whole pipeline: every generated kernel must
// compile with NVRTC and pass ptxas (NVRTC runs it to produce CUBIN) for sm_80 and sm_90. Kernels are
// batched 100 to a program, with f32, bf16 and f16 in turn, and batches compile on all cores: NVRTC
// is thread-safe across programs, and this is the longest test of the backend.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/nvrtc.h"
#include "image_util.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

namespace {

constexpr int kRules = 2000, kBatch = 100, kBatches = kRules / kBatch;
constexpr const char* kArchs[] = {"sm_80", "sm_90"};

// What one (batch, arch) compile produced, checked on the main thread (doctest asserts there).
struct Outcome {
  std::string error;                  // the NvrtcError, with log and numbered source
  std::vector<int> missing_kernels;   // rules whose kernel is not in the CUBIN
};

}  // namespace

TEST_CASE("nvrtc: 2000 random rules compile to CUBIN for sm_80 and sm_90") {
  const std::vector<test::TestRule> rules = test::random_rules(7, kRules, 1, 3);
  const DType dtypes[] = {DType::F32, DType::BF16, DType::F16};
  std::vector<std::string> sources(kBatches);
  for (int b = 0; b < kBatches; ++b) {
    sources[b] = host_device_prelude() + kernel_prelude();
    for (int r = b * kBatch; r < (b + 1) * kBatch; ++r)
      sources[b] += kernel_function(rules[r].f, dtypes[r % 3], "r" + std::to_string(r));
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<Outcome> outcomes(kBatches * std::size(kArchs));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t job; (job = next++) < outcomes.size();) {
      const int b = static_cast<int>(job / std::size(kArchs));
      const char* arch = kArchs[job % std::size(kArchs)];
      try {
        const CompiledImage image = compile(sources[b], arch, ImageKind::Cubin, "batch" + std::to_string(b) + ".cu");
        for (int r = b * kBatch; r < (b + 1) * kBatch; ++r)
          if (!test::cubin_names_kernel(image.image, "r" + std::to_string(r))) outcomes[job].missing_kernels.push_back(r);
      } catch (const NvrtcError& e) {
        outcomes[job].error = e.what();
      }
    }
  };
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  int compiled = 0;
  for (std::size_t job = 0; job < outcomes.size(); ++job) {
    INFO("batch " << job / std::size(kArchs) << " for " << kArchs[job % std::size(kArchs)]);
    CHECK_MESSAGE(outcomes[job].error.empty(), outcomes[job].error);
    for (int r : outcomes[job].missing_kernels) FAIL_CHECK("kernel of rule " << r << " (" << rules[r].label << ") missing");
    if (outcomes[job].error.empty()) compiled += kBatch - static_cast<int>(outcomes[job].missing_kernels.size());
  }
  CHECK(compiled == kRules * static_cast<int>(std::size(kArchs)));
  MESSAGE(kRules << " kernels x " << std::size(kArchs) << " archs in "
                 << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s on "
                 << threads << " threads");
}
