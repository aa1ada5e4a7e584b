#include "benchmarks/nos_bench/resnet50_shapes.h"


namespace nos::bench {
namespace {

// torchvision.models.resnet50: a 7x7 stem, then four stages of bottleneck blocks
// (1x1 reduce to `width`, 3x3, 1x1 expand to 4 * width). The first block of each stage also has a
// 1x1 projection shortcut ("downsample"). Batch norm follows every conv: weight and bias of
// [channels] (its running statistics are buffers, not parameters).
struct Stage {
  int blocks;
  std::int64_t width;
};
constexpr Stage kStages[] = {{3, 64}, {4, 128}, {6, 256}, {3, 512}};
constexpr std::int64_t kExpansion = 4;
constexpr std::int64_t kStemChannels = 64;
constexpr std::int64_t kClasses = 1000;

std::vector<NamedShape> build() {
  std::vector<NamedShape> shapes;
  auto conv_bn = [&](const std::string& conv, const std::string& bn, std::int64_t out, std::int64_t in, std::int64_t k) {
    shapes.push_back({conv + ".weight", {out, in, k, k}});
    shapes.push_back({bn + ".weight", {out}});
    shapes.push_back({bn + ".bias", {out}});
  };
  conv_bn("conv1", "bn1", kStemChannels, 3, 7);
  std::int64_t in = kStemChannels;
  for (int s = 0; s < 4; ++s) {
    const Stage& stage = kStages[s];
    std::int64_t out = stage.width * kExpansion;
    for (int b = 0; b < stage.blocks; ++b) {
      std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
      conv_bn(p + "conv1", p + "bn1", stage.width, in, 1);
      conv_bn(p + "conv2", p + "bn2", stage.width, stage.width, 3);
      conv_bn(p + "conv3", p + "bn3", out, stage.width, 1);
      if (b == 0) conv_bn(p + "downsample.0", p + "downsample.1", out, in, 1);
      in = out;
    }
  }
  shapes.push_back({"fc.weight", {kClasses, in}});
  shapes.push_back({"fc.bias", {kClasses}});
  return shapes;
}

}  // namespace

const std::vector<NamedShape>& resnet50_parameter_shapes() {
  static const std::vector<NamedShape> shapes = build();
  return shapes;
}

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

}  // namespace nos::bench
