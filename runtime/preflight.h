// A child run's checks, all of them, once and without training: what evaluate() would refuse at its
// start (the spec, the data, the split, the model), found before anything depends on it. nos-search
// run calls it before it writes a database, so that a mistake fails there with the message a
// worker would have given rather than in every worker; nos-train before it trains. In nos_runtime
// (it builds the model with LibTorch).
#pragma once

#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/evaluate.h"

namespace nos::runtime {

struct ChildPreflight {
  Dataset data;                       // load_dataset(spec.data)
  Split split;                        // split_dataset(data, split_options(spec)): what evaluate() trains on
  std::vector<std::string> warnings;  // split_warnings(split): doubtful, not refused
  Objective objective = Objective::Classification;  // spec.objective resolved on the data (objective.h)
};

// Checks spec_problem (learning rates included), loads and splits the data as evaluate() would
// (the data and split errors of dataset.h: unreadable, one class, too few examples, a part with one
// class), and builds the model once on the CPU for that data (too large for models.h's bound or
// this machine's memory, or an allocation that fails), with the objective resolved on the data (one
// that does not fit the data or the model refused: objective.h). Throws std::invalid_argument with the
// message evaluate() would give. Neither the device (device_problem) nor the rule is checked.
ChildPreflight preflight_child(const EvaluateSpec& spec);

}  // namespace nos::runtime
