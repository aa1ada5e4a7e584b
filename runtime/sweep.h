// A learning-rate sweep: the same run (same seed, so the same initial weights and data order) at
// each learning rate, and the best of them.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "runtime/trainer.h"

namespace nos::runtime {

struct SweepResult {
  std::vector<RunResult> runs;  // in the order of the learning rates given
  std::size_t best = 0;         // index into runs
};

// The best run is the one with the highest final validation accuracy among those that did not
// diverge (among all runs if every one diverged); ties go to the earlier learning rate.
std::size_t best_run(const std::vector<RunResult>& runs);

// `config.time_budget`, when set, is the budget of the whole sweep, shared equally by the runs so
// every learning rate gets the same chance. `on_run_start` is told each learning rate before its run.
SweepResult sweep_lr(const Split& data, const OptimizerSpec& optimizer, TrainConfig config,
                     const std::vector<double>& lrs, const std::function<void(double lr)>& on_run_start = {},
                     const EpochCallback& on_epoch = {});

}  // namespace nos::runtime
