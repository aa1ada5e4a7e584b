#include "compiler/analysis.h"

#include <cmath>
#include <random>
#include <vector>

#include "compiler/interpreter.h"

namespace nos::ir {

std::optional<std::string> always_non_finite(const Function& f) {
  if (f.body[f.result].op == Op::Const && !std::isfinite(f.body[f.result].imm))
    return "its update folds to the constant " + std::to_string(f.body[f.result].imm);

  // Gradients from 1e-6 to 1e2 in both signs, weights likewise: any finite update clears the rule.
  constexpr std::size_t n = 512;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-6, 2), unit(-1, 1);
  std::vector<float> w(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = unit(rng) * std::pow(10.0f, exponent(rng));
    g[i] = unit(rng) * std::pow(10.0f, exponent(rng));
  }
  std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(n, 0.0f));
  std::vector<float*> state_ptrs;
  for (auto& s : states) state_ptrs.push_back(s.data());
  for (std::uint32_t t = 1; t <= 3; ++t) {
    StepContext ctx{t, 100, 0.0f, 1, 0};  // lr 0 keeps w fixed: only the update is probed
    std::vector<float> delta = interpret_delta(f, ctx, w.data(), g.data(), state_ptrs, n);
    for (float d : delta)
      if (std::isfinite(d)) return std::nullopt;
  }
  return "its update is NaN or infinite for every probed gradient and weight";
}

}  // namespace nos::ir
