// The parameter tensors of torchvision's ResNet-50 (ImageNet, 1000 classes), in named_parameters()
// order: the "many tensors of mixed sizes" case of an optimizer step, next to single big tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nos::bench {

struct NamedShape {
  std::string name;                 // torchvision's parameter name, e.g. "layer1.0.conv2.weight"
  std::vector<std::int64_t> shape;
};

// 161 tensors (53 conv weights, 53 batch-norm weight/bias pairs, fc weight and bias) holding
// 25,557,032 parameters.
const std::vector<NamedShape>& resnet50_parameter_shapes();

std::int64_t numel(const std::vector<std::int64_t>& shape);

}  // namespace nos::bench
