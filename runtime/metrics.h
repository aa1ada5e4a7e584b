// The pieces of a training run's bookkeeping that need no tensors: the divergence guard and the
// summary metrics over the last epochs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/train_config.h"

namespace nos::runtime {

// A run diverges when its loss is NaN or infinite, or exceeds `factor` times the first loss it saw
// (a candidate rule that explodes; training on would only burn the search's time).
class DivergenceGuard {
 public:
  explicit DivergenceGuard(double factor = 1e3) : factor_(factor) {}
  // nullopt while the loss is healthy, else the reason, e.g. "loss 3.1e+05 > 1000 x initial loss 2.3".
  std::optional<std::string> check(double loss, std::int64_t step);

 private:
  double factor_;
  std::optional<double> initial_;
};

// Fills val_acc_mean_last_k / val_acc_max_last_k / last_k from the history (complete epochs and a
// final partial one alike), and val_acc from the last record when the run has one.
void summarize(RunResult& result, int last_k);

}  // namespace nos::runtime
