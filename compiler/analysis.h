// Static facts about a rule that tools report: does it only ever produce NaN/inf?
#pragma once

#include <optional>
#include <string>

#include "compiler/ir.h"

namespace nos::ir {

// A reason when the rule's update is NaN or infinite on every element of a probe run (a few steps
// on gradients and weights spanning many magnitudes); nullopt when any update is finite.
std::optional<std::string> always_non_finite(const Function& optimized);

}  // namespace nos::ir
