// Runs a rule on the reference interpreter over seeded data, for tests that compare two forms of
// the same rule (before and after a pass or a lowering) by the weights they end with.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "compiler/interpreter.h"

namespace nos::ir::testing {

// Three steps of f (T = 10, lr = 0.01) on n weights ~ N(0, 1) and gradients ~ N(0, 0.1), all
// drawn from `seed`; `edit_gradient(g, t)` may overwrite entries of step t's gradient first.
// Returns the final weights.
inline std::vector<float> run_three_steps(
    const Function& f, std::uint64_t seed, std::size_t n,
    const std::function<void(std::vector<float>&, std::uint32_t)>& edit_gradient) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(n, 0));
  std::vector<float*> ptrs;
  for (auto& s : states) ptrs.push_back(s.data());
  for (std::uint32_t t = 1; t <= 3; ++t) {
    std::vector<float> g(n);
    for (float& x : g) x = normal(rng) * 0.1f;
    edit_gradient(g, t);
    interpret_step(f, {t, 10, 0.01f, seed, 3}, w.data(), g.data(), ptrs, n);
  }
  return w;
}

}  // namespace nos::ir::testing
