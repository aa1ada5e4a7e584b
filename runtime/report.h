// JSON for the pieces of a run (EpochRecord, RunResult, OptimizerSpec), written and read in one
// place with the evaluate API's types (evaluate_json.cpp). Non-finite numbers (a diverged loss)
// become null, since JSON has no NaN, and come back as NaN.
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/train_config.h"

namespace nos::runtime {

// At most this many points of the per-step loss curve are written (means of equal runs of steps).
inline constexpr std::size_t kLossCurvePoints = 200;

nlohmann::json to_json(const EpochRecord& epoch);
// status, message, lr, val_acc, val_acc_mean_last_k, val_acc_max_last_k, last_k, steps, seconds,
// compile_seconds, train_seconds, validation_seconds, backend, history, loss_curve {every, values}.
nlohmann::json to_json(const RunResult& run);
RunResult run_from_json(const nlohmann::json& j);        // throws std::invalid_argument naming the key
nlohmann::json to_json(const OptimizerSpec& optimizer);  // {"rule": {...}} or {"torch": "adam", ...}

// Means over consecutive chunks of `every` values so that at most `points` remain.
std::vector<double> downsample(const std::vector<double>& values, std::size_t points, std::size_t* every);

}  // namespace nos::runtime
