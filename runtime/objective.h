// Which objective a task trains (task.h: Objective) on its data: Auto resolved from the data, and
// an objective that does not fit the data or the model refused. Torch-free: the trainer, the
// preflight and the tools that show the metric's name ask the same function.
#pragma once

#include <string>

#include "runtime/data/dataset.h"
#include "runtime/task.h"

namespace nos::runtime {

// `requested` on `data` trained by the model `model` (a built-in's name or a TorchScript file):
// Auto becomes the data's objective (task.h); anything else is checked against the data and the
// built-in models. Throws std::invalid_argument naming the data's source (or the model) and saying
// which objective would fit, e.g. "data.npz: objective classification needs class labels y, but
// data.npz:y.npy[3] is 0.5 ...".
Objective resolve_objective(Objective requested, const Dataset& data, const std::string& model);

// How many outputs per example (per position for lm) the network must give: the classes, the
// regression targets' width, or the vocabulary.
std::int64_t objective_outputs(Objective objective, const Dataset& data);

// The metric as the tools show it: accuracy in percent ("87.50%"), a negated loss as a number
// ("-0.01234"). Its label beside it: "val acc", "val neg_mse", "val neg_bits_per_token".
std::string metric_text(Objective objective, double value);
std::string metric_caption(Objective objective);

// What a search's reward is made of (before its transform: controller/reward.h): the metric itself
// for accuracy (0 .. 1), and for a negated loss m <= 0 (-MSE, -bits per token) 1 / (1 - m), i.e.
// 1 / (1 + loss): in (0, 1], higher is better, 1 for a perfect model, and above the failure reward
// 0 for any model that trained, as an accuracy is.
double reward_base(Objective objective, double metric);

}  // namespace nos::runtime
