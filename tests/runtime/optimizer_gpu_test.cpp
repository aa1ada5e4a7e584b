// RuleOptimizer on CUDA: the same 200-step equivalence with LibTorch's Adam, SGD and RMSprop as on
// CPU, run on the GPU with the Cuda backend on LibTorch's current stream, and a bit-exact resume.
// Prints [SKIP] (CTest: skipped) where there is no CUDA device or no CUDA backend.
#include <string>

#include <torch/cuda.h>
#include <torch/serialize.h>

#include "equivalence.h"
#include "runtime/rule_optimizer.h"
#include "test_data_files.h"
// Last: LibTorch pulls in glog, whose CHECK macros must not replace doctest's.
#include <doctest/doctest.h>

using namespace nos;
using namespace nos::testing;

namespace {

bool skip_without_cuda() {
  std::string why;
  if (!torch::cuda::is_available()) why = "no CUDA device for LibTorch";
  else if (!codegen::backend_available(codegen::Backend::Cuda, &why)) why = "no CUDA backend: " + why;
  if (why.empty()) return false;
  MESSAGE("[SKIP] " << why);
  return true;
}

}  // namespace

TEST_CASE("Adam, SGD and RMSProp as rules match LibTorch's optimizers over 200 steps on CUDA") {
  if (skip_without_cuda()) return;
  torch::Device gpu(torch::kCUDA, 0);
  CHECK((RuleOptimizer({torch::zeros({1}, gpu)}, compiler::compile_text("g"))
             .backend_for(RuleOptimizerOptions(), gpu) == codegen::Backend::Cuda));
  for (const EquivalenceCase& c : equivalence_cases()) {
    CAPTURE(c.rule);
    EquivalenceResult r = run_equivalence(c, gpu, "auto");
    MESSAGE("cuda '" << c.rule << "': max |diff| shadowed " << r.shadowed.max_abs << ", free-running "
                     << r.free_early.max_abs << " at step 50 and " << r.free_final.max_abs << " at step 200"
                     << " (parameters moved up to " << r.free_final.max_moved << ")");
    CHECK(r.shadowed.all_finite);
    CHECK(r.free_final.all_finite);
    CHECK(r.shadowed.max_moved > 100 * kShadowedMaxAbs);
    CHECK(r.shadowed.max_abs < kShadowedMaxAbs);
    CHECK(r.free_early.max_abs < kFreeEarlyMaxAbs);
    CHECK(r.free_final.max_abs < kFreeFinalMaxAbs);
  }
}

TEST_CASE("a CUDA checkpoint resumes training bit for bit") {
  if (skip_without_cuda()) return;
  torch::Device gpu(torch::kCUDA, 0);
  std::vector<Batch> batches = random_batches(gpu);
  const std::string text = "adam + 0.01 * noise";
  std::string path = temp_dir("checkpoint_gpu") + "/optimizer.pt";
  auto options = RuleOptimizerOptions(1e-3).seed(3);
  torch::nn::Sequential straight = test_model(gpu);
  RuleOptimizer straight_opt(straight->parameters(), compiler::compile_text(text), options);
  train_steps(straight, straight_opt, batches, 12);

  torch::nn::Sequential resumed = test_model(gpu);
  {
    RuleOptimizer opt(resumed->parameters(), compiler::compile_text(text), options);
    train_steps(resumed, opt, batches, 5);
    torch::save(opt, path);
  }
  RuleOptimizer resumed_opt(resumed->parameters(), compiler::compile_text(text));
  torch::load(resumed_opt, path);
  train_steps(resumed, resumed_opt, batches, 7, /*first_step=*/5);
  auto a = straight->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
}
