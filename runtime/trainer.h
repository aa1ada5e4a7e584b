// Child training: one run of a model on a data split with a rule (or a LibTorch optimizer) at one
// learning rate. Per-epoch validation, a divergence guard, a wall-clock budget, and determinism for
// a fixed seed and thread count. Torch-free interface; trainer.cpp holds the tensors.
#pragma once

#include <functional>
#include <string>

#include "runtime/data/dataset.h"
#include "runtime/train_config.h"

namespace nos::runtime {

// Never throws for what the rule does: diverging (status Diverged), running out of time
// (TimeBudget) or a kernel that cannot be built (CompileFailed) are results. Throws
// std::invalid_argument for a configuration that cannot run (unknown model or device, a model
// that does not fit the data or is too large). Callers outside the runtime use evaluate.h.
RunResult train(const Split& data, const OptimizerSpec& optimizer, const TrainConfig& config,
                const EpochCallback& on_epoch = {});

// Whether `device` ("cpu", "cuda", "cuda:1") exists here; `why` says what is missing.
bool device_available(const std::string& device, std::string* why = nullptr);

}  // namespace nos::runtime
