// The method's reward transforms: the reward of a candidate is a function of its metric (validation
// accuracy): the metric itself, its square, its cube or its square root.
#pragma once

#include <string>
#include <string_view>

namespace nos::controller {

enum class RewardTransform { Identity, Square, Cube, Sqrt };

// "identity", "square", "cube", "sqrt"; throws OptionError naming `option` for anything else.
RewardTransform parse_reward_transform(std::string_view text, std::string_view option = "reward");
std::string_view name(RewardTransform transform);

// For a metric >= 0 (an accuracy) these are x, x^2, x^3, sqrt(x). A negative metric keeps its sign
// (x|x|, sign(x) sqrt|x|) so that every transform stays increasing and a worse metric is never a
// better reward.
double transform_reward(RewardTransform transform, double metric);

}  // namespace nos::controller
