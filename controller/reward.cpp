#include "controller/reward.h"

#include <cmath>

#include "controller/options.h"

namespace nos::controller {

RewardTransform parse_reward_transform(std::string_view text, std::string_view option) {
  for (RewardTransform t : {RewardTransform::Identity, RewardTransform::Square, RewardTransform::Cube, RewardTransform::Sqrt})
    if (name(t) == text) return t;
  throw OptionError("option '" + std::string(option) + "': unknown reward transform '" + std::string(text) +
                    "' (known: identity, square, cube, sqrt)");
}

std::string_view name(RewardTransform transform) {
  switch (transform) {
    case RewardTransform::Identity: return "identity";
    case RewardTransform::Square: return "square";
    case RewardTransform::Cube: return "cube";
    case RewardTransform::Sqrt: return "sqrt";
  }
  return "";
}

double transform_reward(RewardTransform transform, double metric) {
  switch (transform) {
    case RewardTransform::Identity: return metric;
    case RewardTransform::Square: return metric * std::abs(metric);
    case RewardTransform::Cube: return metric * metric * metric;
    case RewardTransform::Sqrt: return std::copysign(std::sqrt(std::abs(metric)), metric);
  }
  return metric;
}

}  // namespace nos::controller
