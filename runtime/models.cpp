#include "runtime/models.h"

#include <filesystem>
#include <functional>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include "runtime/child_model.h"
#include "runtime/physical_memory.h"
#include "runtime/text_models.h"

namespace nos::runtime {
namespace {

constexpr std::int64_t kConvFilters = 32;
constexpr std::int64_t kConvHead = 128;

// A model larger than this is a typo (--hidden 1000000000), not a child network: refuse it before
// LibTorch tries to allocate it. 2^28 float32 parameters are 1 GiB, 5 GiB with gradients and three
// state buffers.
constexpr double kMaxParameters = double(1 << 28);
// What one parameter costs while training: float32 weight, gradient and up to three state buffers.
constexpr double kTrainingBytesPerParameter = 4 * 5;

void check_size(double parameters, const std::string& what) {
  if (parameters > kMaxParameters)
    throw std::invalid_argument(fmt::format("model {} would have {:.3g} parameters; at most {:.0f} are supported",
                                            what, parameters, kMaxParameters));
  // A smaller machine holds less: refused here rather than killed, or thrashing, mid-training.
  const double memory = double(physical_memory_bytes());
  if (parameters * kTrainingBytesPerParameter > memory)
    throw std::invalid_argument(fmt::format("model {} would have {:.3g} parameters, {:.1f} GiB to train (weights, "
                                            "gradients, optimizer state); this machine has {:.1f} GiB of memory",
                                            what, parameters, parameters * kTrainingBytesPerParameter / double(1 << 30),
                                            memory / double(1 << 30)));
}

torch::nn::Sequential mlp(const ModelSpec& spec, std::int64_t inputs, std::int64_t classes) {
  torch::nn::Sequential net;
  net->push_back(torch::nn::Flatten());
  double parameters = 0;
  std::int64_t previous = inputs;
  std::string widths;
  for (std::int64_t hidden : spec.hidden) {
    parameters += double(previous) * double(hidden) + double(hidden);
    previous = hidden;
    widths += (widths.empty() ? "" : ",") + std::to_string(hidden);
  }
  check_size(parameters + double(previous) * double(classes) + double(classes), "mlp with hidden widths " + widths);
  std::int64_t width = inputs;
  for (std::int64_t hidden : spec.hidden) {
    if (hidden <= 0) throw std::invalid_argument(fmt::format("mlp: hidden layer widths must be positive, got {}", hidden));
    net->push_back(torch::nn::Linear(width, hidden));
    net->push_back(torch::nn::ReLU());
    width = hidden;
  }
  net->push_back(torch::nn::Linear(width, classes));
  return net;
}

torch::nn::Sequential convnet(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  if (shape.size() != 3)
    throw std::invalid_argument("model convnet needs image data (channels x height x width); this data has " +
                                std::to_string(shape.empty() ? 0 : shape[0]) + " flat features per example");
  std::int64_t channels = shape[0], height = shape[1], width = shape[2];
  if (height < 4 || width < 4)
    throw std::invalid_argument("model convnet needs images of at least 4x4 pixels, got " + std::to_string(height) +
                                "x" + std::to_string(width));
  check_size(double(kConvFilters) * double(height / 4) * double(width / 4) * double(kConvHead),
             fmt::format("convnet on {}x{} images", height, width));
  torch::nn::Sequential net;
  for (std::int64_t in : {channels, kConvFilters}) {
    net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, kConvFilters, 3).padding(1)));
    net->push_back(torch::nn::BatchNorm2d(kConvFilters));
    net->push_back(torch::nn::ReLU());
    net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  }
  net->push_back(torch::nn::Flatten());
  net->push_back(torch::nn::Linear(kConvFilters * (height / 4) * (width / 4), kConvHead));
  net->push_back(torch::nn::ReLU());
  net->push_back(torch::nn::Linear(kConvHead, classes));
  return net;
}

// What a model that needs numbers says of token ids, and a text model of anything else.
void check_input_kind(const std::string& model, const std::vector<std::int64_t>& shape, std::int64_t vocabulary) {
  const bool sequence_model = is_text_model(model);
  if (vocabulary > 0 && !sequence_model)
    throw std::invalid_argument(fmt::format("model {} needs numeric features or images; this data is token sequences "
                                            "({} tokens of a vocabulary of {}): use textrnn or textcnn",
                                            model, shape.empty() ? 0 : shape[0], vocabulary));
  if (vocabulary == 0 && sequence_model)
    throw std::invalid_argument(fmt::format("model {} needs token sequences (an .npz whose x holds integer token ids, "
                                            "shape (N, length)); this data is {} of shape ({})",
                                            model, shape.size() == 3 ? "images" : "a table of numbers",
                                            fmt::join(shape, ", ")));
}

torch::nn::Sequential sequence_model(const std::string& name, std::int64_t vocabulary, std::int64_t classes,
                                     Objective objective) {
  check_size(text_model_parameters(name, vocabulary, classes), fmt::format("{} with a vocabulary of {}", name, vocabulary));
  const bool per_position = objective == Objective::LanguageModel;
  if (per_position && name != "textrnn")
    throw std::invalid_argument(fmt::format("model {} cannot train objective lm (it sees the tokens after a position); "
                                            "use textrnn",
                                            name));
  return text_model(name, vocabulary, classes, per_position);
}

// resnet: a ResNet-8-like net. A 3x3 conv stem (16 filters, batch norm, ReLU), three stages of one
// basic block each (two 3x3 convs with batch norm; a stride-2 1x1 projection on the shortcut where
// the width or the size changes), global average pooling and a linear head.
constexpr std::int64_t kResnetWidths[] = {16, 32, 64};

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(out))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      shortcut = register_module("shortcut", torch::nn::Sequential(
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)), torch::nn::BatchNorm2d(out)));
    }
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor y = torch::relu(bn1->forward(conv1->forward(x)));
    y = bn2->forward(conv2->forward(y));
    return torch::relu(y + (shortcut.is_empty() ? x : shortcut->forward(x)));
  }
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(BasicBlock);

torch::nn::Sequential resnet(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  if (shape.size() != 3)
    throw std::invalid_argument("model resnet needs image data (channels x height x width); this data has " +
                                std::to_string(shape.empty() ? 0 : shape[0]) + " flat features per example");
  std::int64_t channels = shape[0], height = shape[1], width = shape[2];
  if (height < 4 || width < 4)
    throw std::invalid_argument(fmt::format("model resnet needs images of at least 4x4 pixels, got {}x{}", height, width));
  torch::nn::Sequential net;
  std::int64_t in = kResnetWidths[0];
  net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, in, 3).padding(1).bias(false)));
  net->push_back(torch::nn::BatchNorm2d(in));
  net->push_back(torch::nn::ReLU());
  for (std::int64_t out : kResnetWidths) {
    net->push_back(BasicBlock(in, out, out == in ? 1 : 2));
    in = out;
  }
  net->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  net->push_back(torch::nn::Flatten());
  net->push_back(torch::nn::Linear(in, classes));
  return net;
}

// A built-in network with its objective (objective_score.cpp).
class BuiltinModel final : public ChildModel {
 public:
  BuiltinModel(torch::nn::Sequential net, Objective objective) : net_(std::move(net)), objective_(objective) {}
  std::vector<at::Tensor> parameters() override { return net_->parameters(); }
  void set_training(bool training) override { net_->train(training); }
  void to(const c10::Device& device) override { net_->to(device); }
  at::Tensor loss(const at::Tensor& x, const at::Tensor& y) override {
    return objective_loss(objective_, net_->forward(objective_input(objective_, x)), x, y);
  }
  ChunkScore score(const at::Tensor& x, const at::Tensor& y) override {
    return objective_score(objective_, net_->forward(objective_input(objective_, x)), x, y);
  }

 private:
  torch::nn::Sequential net_;
  Objective objective_;
};

}  // namespace

ChunkScore classification_score(const at::Tensor& logits, const at::Tensor& labels) {
  namespace F = torch::nn::functional;
  ChunkScore score;
  score.loss_sum = F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
  at::Tensor right = logits.argmax(1).eq(labels).logical_and(torch::isfinite(logits).all(1));
  score.metric_sum = right.sum().item<double>();
  return score;
}

std::unique_ptr<ChildModel> make_child_model(const ModelSpec& spec, Objective objective,
                                             const std::vector<std::int64_t>& example_shape, std::int64_t outputs,
                                             std::int64_t vocabulary, std::uint64_t seed) {
  if (!is_builtin_model(spec.name)) {
    if (std::error_code ec; !std::filesystem::exists(spec.name, ec))
      throw std::invalid_argument(fmt::format("unknown model '{}' (expected {} or a TorchScript file's path)", spec.name,
                                              fmt::join(model_names(), ", ")));
    return load_torchscript_model(spec.name, objective, outputs, seed);
  }
  torch::manual_seed(seed);
  return std::make_unique<BuiltinModel>(make_model(spec, example_shape, outputs, vocabulary, objective), objective);
}

torch::nn::Sequential make_model(const ModelSpec& spec, const std::vector<std::int64_t>& example_shape,
                                 std::int64_t num_classes, std::int64_t vocabulary, Objective objective) {
  if (is_builtin_model(spec.name)) check_input_kind(spec.name, example_shape, vocabulary);
  if (is_text_model(spec.name)) return sequence_model(spec.name, vocabulary, num_classes, objective);
  if (spec.name == "mlp") {
    std::int64_t inputs = std::accumulate(example_shape.begin(), example_shape.end(), std::int64_t{1},
                                          std::multiplies<>());
    return mlp(spec, inputs, num_classes);
  }
  if (spec.name == "convnet") return convnet(example_shape, num_classes);
  if (spec.name == "resnet") return resnet(example_shape, num_classes);
  throw std::invalid_argument(fmt::format("unknown model '{}' (expected {} or a TorchScript file)", spec.name,
                                          fmt::join(model_names(), ", ")));
}

}  // namespace nos::runtime
