#include "runtime/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace nos::runtime {

std::optional<std::string> DivergenceGuard::check(double loss, std::int64_t step) {
  if (!std::isfinite(loss)) return fmt::format("loss is {:g} at step {}", loss, step);
  if (!initial_) initial_ = loss;
  // A floor on the reference keeps a near-zero first loss from flagging ordinary noise.
  double limit = factor_ * std::max(*initial_, 1e-3);
  if (loss > limit)
    return fmt::format("loss {:g} at step {} exceeds {:g} x the initial loss {:g}", loss, step, factor_, *initial_);
  return std::nullopt;
}

void summarize(RunResult& result, int last_k) {
  const auto& history = result.history;
  if (history.empty()) return;
  result.val_acc = history.back().val_acc;
  std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(std::max(last_k, 1)), history.size());
  // The best from the first of the last k, not 0: a negated loss (-MSE, -bits per token) is below 0.
  double sum = 0, best = history[history.size() - k].val_acc;
  for (std::size_t i = history.size() - k; i < history.size(); ++i) {
    sum += history[i].val_acc;
    best = std::max(best, history[i].val_acc);
  }
  result.last_k = static_cast<int>(k);
  result.val_acc_mean_last_k = sum / static_cast<double>(k);
  result.val_acc_max_last_k = best;
}

}  // namespace nos::runtime
