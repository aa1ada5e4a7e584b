// The launch's work list, host side: chunks cover every element of every tensor exactly once.
#include <doctest/doctest.h>

#include <vector>

#include "compiler/codegen/cuda/cuda_kernel.h"
#include "compiler/codegen/cuda/kernel_table.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

TEST_CASE("kernel table: chunks cover each tensor once, in order, and skip empty tensors") {
  const std::int64_t sizes[] = {1, 0, kChunkElements, kChunkElements + 1, 3 * kChunkElements - 5};
  std::vector<KernelTensor> tensors;
  for (std::int64_t n : sizes) {
    KernelTensor t{};
    t.numel = n;
    tensors.push_back(t);
  }
  const std::vector<KernelChunk> chunks = make_chunks(tensors);
  std::vector<std::int64_t> covered(std::size(sizes), 0);
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const std::int64_t begin = chunks[c].index * kChunkElements;
    const std::int64_t end = std::min(sizes[chunks[c].tensor], begin + kChunkElements);
    CHECK(begin == covered[chunks[c].tensor]);  // consecutive, no gap, no overlap
    covered[chunks[c].tensor] = end;
    if (c > 0) CHECK(chunks[c - 1].tensor <= chunks[c].tensor);
  }
  for (std::size_t k = 0; k < std::size(sizes); ++k) CHECK(covered[k] == sizes[k]);
  CHECK(chunks.size() == 1 + 0 + 1 + 2 + 3);

  tensors[2].numel = -1;
  CHECK_THROWS_AS(make_chunks(tensors), std::invalid_argument);
}

TEST_CASE("kernel step: lr, t, seed and the step inputs in ir::StepInputs order") {
  const ir::Function f = test::compile_text("ld * adam + cd * g").f;
  const KernelStep step = codegen::make_step(f, 0.5f, 3, 10, 99);
  const ir::StepInputs inputs = ir::step_inputs(f, 3, 10);
  CHECK(step.lr == 0.5f);
  CHECK(step.t == 3);
  CHECK(step.seed == 99);
  REQUIRE(inputs.step_scalars.size() + inputs.bias_correction.size() <= kMaxStepInputs);
  std::size_t k = 0;
  for (float v : inputs.step_scalars) CHECK(step.inputs[k++] == v);
  for (float v : inputs.bias_correction) CHECK(step.inputs[k++] == v);
  for (; k < kMaxStepInputs; ++k) CHECK(step.inputs[k] == 0.0f);
}
