#include "runtime/sweep.h"

#include <stdexcept>

namespace nos::runtime {

std::size_t best_run(const std::vector<RunResult>& runs) {
  std::size_t best = 0;
  auto rank = [](const RunResult& r) { return std::pair{r.status == "ok", r.val_acc}; };
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (rank(runs[i]) > rank(runs[best])) best = i;
  return best;
}

SweepResult sweep_lr(const Split& data, const OptimizerSpec& optimizer, TrainConfig config,
                     const std::vector<double>& lrs, const std::function<void(double lr)>& on_run_start,
                     const EpochCallback& on_epoch) {
  if (lrs.empty()) throw std::invalid_argument("the learning-rate sweep is empty");
  if (config.time_budget > 0) config.time_budget /= static_cast<double>(lrs.size());
  SweepResult sweep;
  for (double lr : lrs) {
    if (on_run_start) on_run_start(lr);
    config.lr = lr;
    sweep.runs.push_back(train(data, optimizer, config, on_epoch));
  }
  sweep.best = best_run(sweep.runs);
  return sweep;
}

}  // namespace nos::runtime
