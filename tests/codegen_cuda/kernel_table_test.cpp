// The launch's work split, host side: equal shares cover every element of every tensor exactly once.
#include <doctest/doctest.h>

#include <algorithm>
#include <span>
#include <vector>

#include "compiler/codegen/cuda/cuda_kernel.h"
#include "compiler/codegen/cuda/kernel_table.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

namespace {

// Walks the splits as the kernel does and checks that the blocks cover every element of every
// tensor exactly once, in order, each share starting at a multiple of 4 inside its tensor.
std::vector<std::int64_t> shares_of(std::span<const KernelTensor> tensors, const std::vector<KernelSplit>& splits) {
  std::vector<std::int64_t> covered(tensors.size(), 0), shares;
  REQUIRE(!splits.empty());
  CHECK(splits.back().tensor == tensors.size());
  CHECK(splits.back().begin == 0);
  for (std::size_t b = 0; b + 1 < splits.size(); ++b) {
    const KernelSplit from = splits[b], to = splits[b + 1];
    CHECK(from.begin % 4 == 0);
    std::int64_t share = 0;
    for (std::uint32_t t = from.tensor; t <= to.tensor; ++t) {
      if (t == to.tensor && to.begin == 0) break;
      const std::int64_t begin = t == from.tensor ? from.begin : 0;
      const std::int64_t end = t == to.tensor ? to.begin : tensors[t].numel;
      if (begin >= end) continue;
      CHECK(begin == covered[t]);  // consecutive: no gap, no overlap
      covered[t] = end;
      share += end - begin;
    }
    shares.push_back(share);
  }
  for (std::size_t t = 0; t < tensors.size(); ++t) CHECK(covered[t] == tensors[t].numel);
  return shares;
}

std::vector<KernelTensor> table_of(const std::vector<std::int64_t>& sizes) {
  std::vector<KernelTensor> tensors;
  for (std::int64_t n : sizes) {
    KernelTensor t{};
    t.numel = n;
    tensors.push_back(t);
  }
  return tensors;
}

}  // namespace

TEST_CASE("kernel table: equal shares cover each tensor once, in order, across tensor boundaries") {
  const std::vector<KernelTensor> tensors = table_of({1, 0, 5, kShareQuantum, kShareQuantum + 1, 3 * kShareQuantum - 5, 0, 7});
  std::int64_t total = 0;
  for (const KernelTensor& t : tensors) total += t.numel;
  for (std::uint32_t max_blocks : {1u, 2u, 3u, 5u, 1056u}) {
    CAPTURE(max_blocks);
    const std::vector<KernelSplit> splits = make_splits(tensors, max_blocks);
    const std::vector<std::int64_t> shares = shares_of(tensors, splits);
    CHECK(shares.size() <= max_blocks);
    const std::int64_t share = (total + max_blocks - 1) / max_blocks;
    const std::int64_t quantum_share = (share + kShareQuantum - 1) / kShareQuantum * kShareQuantum;
    CHECK(static_cast<std::int64_t>(shares.size()) == (total + quantum_share - 1) / quantum_share);
    // Equal up to the 0-3 elements a start moves back to a multiple of 4; the last takes the rest.
    for (std::size_t b = 0; b + 1 < shares.size(); ++b) {
      CHECK(shares[b] >= quantum_share - 3);
      CHECK(shares[b] <= quantum_share + 3);
    }
  }
}

TEST_CASE("kernel table: ResNet-50-like mixes fill the device in one wave of near-equal shares") {
  // 161 tensors: many tiny (batch-norm vectors), a few of millions; the old fixed 16K-element
  // chunks gave 1.56 waves of 1,056 blocks here, the last wave half empty.
  std::vector<std::int64_t> sizes;
  for (int k = 0; k < 53; ++k) sizes.push_back(64 << (k % 6));
  for (int k = 0; k < 53; ++k) sizes.push_back(64 << (k % 6));
  for (int k = 0; k < 53; ++k) sizes.push_back((9 * 4096) << (k % 7));
  sizes.push_back(2048 * 1000);
  sizes.push_back(1000);
  const std::vector<KernelTensor> tensors = table_of(sizes);
  const std::vector<std::int64_t> shares = shares_of(tensors, make_splits(tensors, 1056));
  // One wave: every block but those the quantum's rounding leaves idle (under 1 %) has a share.
  CHECK(shares.size() >= 1045);
  CHECK(shares.size() <= 1056);
  const auto [least, most] = std::minmax_element(shares.begin(), shares.end() - 1);
  CHECK(*most - *least <= 6);
}

TEST_CASE("kernel table: empty tables, bad sizes and no blocks") {
  const std::vector<KernelSplit> none = make_splits(table_of({0, 0}), 8);
  REQUIRE(none.size() == 1);
  CHECK(none[0].tensor == 2);
  CHECK(make_splits(table_of({}), 8).size() == 1);
  CHECK_THROWS_AS(make_splits(table_of({4, -1}), 8), std::invalid_argument);
  CHECK_THROWS_AS(make_splits(table_of({4}), 0), std::invalid_argument);
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
