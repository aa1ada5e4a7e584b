// The user's own network as a child: a TorchScript file (`torch.jit.save` of a scripted or traced
// nn.Module). `forward(x)` gives class scores; optional methods define the objective:
//   loss(x, y) -> Tensor     the training loss, a scalar (the batch's mean)
//   metric(x, y) -> Tensor   the validation metric, higher is better, a scalar (the batch's mean)
//   init(seed: int)          re-initializes the weights for a child's seed (called without gradients,
//                            after torch.manual_seed(seed))
// Without `loss`, the loss is the task's objective's on forward's output (cross entropy, mean
// squared error, or cross entropy per position for lm); without `metric`, the objective's metric.
// The only translation unit that includes TorchScript's headers.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "runtime/child_model.h"
#include "runtime/data/input_file.h"

namespace nos::runtime {
namespace {

namespace jit = torch::jit;

// c10's messages end in a C++ stack trace and a TorchScript traceback: the first lines say what.
std::string brief(std::string text) {
  if (std::size_t cut = text.find("\nException raised from"); cut != std::string::npos) text.resize(cut);
  if (text.size() > 2000) text = text.substr(0, 2000) + " ...";
  return text;
}

// A search's worker trains thousands of children of one file: it is read once per process and file
// version (size and modification time), and every child loads its own module from those bytes (a
// deep copy of a loaded module would give parameters that are not leaves of the autograd graph).
jit::Module load_once(const std::string& path) {
  check_regular_file(path);
  std::error_code ec;
  auto version = std::make_pair(std::filesystem::file_size(path, ec), std::filesystem::last_write_time(path, ec));
  static std::mutex mutex;
  static std::map<std::string, std::pair<decltype(version), std::string>> cache;
  std::string bytes;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(path);
    if (it == cache.end() || it->second.first != version) {
      std::ifstream in(path, std::ios::binary);
      std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) throw std::invalid_argument(fmt::format("{}: cannot read the file", path));
      it = cache.insert_or_assign(path, std::make_pair(version, std::move(read))).first;
    }
    bytes = it->second.second;
  }
  try {
    std::istringstream stream(bytes);
    return jit::load(stream, c10::Device(c10::kCPU));
  } catch (const c10::Error& e) {
    throw std::invalid_argument(fmt::format("{}: not a TorchScript model (torch.jit.save of a scripted or traced "
                                            "nn.Module): {}", path, brief(e.what_without_backtrace())));
  }
}

class TorchScriptModel final : public ChildModel {
 public:
  TorchScriptModel(std::string path, jit::Module module, Objective objective, std::int64_t outputs)
      : path_(std::move(path)), module_(std::move(module)), objective_(objective), outputs_(outputs) {
    if (!module_.find_method("forward"))
      throw std::invalid_argument(fmt::format("{}: the TorchScript model has no forward method", path_));
    has_loss_ = module_.find_method("loss").has_value();
    has_metric_ = module_.find_method("metric").has_value();
    collect_parameters();
    if (parameters_.empty())
      throw std::invalid_argument(fmt::format("{}: the TorchScript model has no trainable parameters", path_));
  }

  void init(std::uint64_t seed) {
    if (!module_.find_method("init")) return;
    torch::manual_seed(seed);
    torch::NoGradGuard no_grad;  // init writes the parameters in place, as under torch.no_grad()
    call("init", {static_cast<std::int64_t>(seed)});
    collect_parameters();  // init may have replaced the tensors
  }

  std::vector<at::Tensor> parameters() override { return parameters_; }
  void set_training(bool training) override { module_.train(training); }
  void to(const c10::Device& device) override {
    module_.to(device);
    collect_parameters();
  }

  at::Tensor loss(const at::Tensor& x, const at::Tensor& y) override {
    if (has_loss_) return scalar("loss", call("loss", {x, y}));
    return objective_loss(objective_, scores(x), x, y);
  }

  ChunkScore score(const at::Tensor& x, const at::Tensor& y) override {
    double rows = static_cast<double>(x.size(0));
    ChunkScore out;
    if (!has_loss_ || !has_metric_) out = objective_score(objective_, scores(x), x, y);
    if (has_loss_) out.loss_sum = scalar("loss", call("loss", {x, y})).item<double>() * rows;
    if (has_metric_) out.metric_sum = scalar("metric", call("metric", {x, y})).item<double>() * rows;
    return out;
  }

 private:
  void collect_parameters() {
    parameters_.clear();
    for (const at::Tensor& p : module_.parameters())
      if (p.requires_grad()) parameters_.push_back(p);
  }

  // Every call into the model: its failures (a shape it cannot take, an error it raises) are the
  // model's, named by the file, never NOS's internal error.
  c10::IValue call(const char* method, std::vector<c10::IValue> args) {
    try {
      return module_.get_method(method)(std::move(args));
    } catch (const c10::Error& e) {
      throw std::invalid_argument(fmt::format("{}: {}() failed: {}", path_, method, brief(e.what_without_backtrace())));
    } catch (const std::exception& e) {  // torch::jit::JITException: an error raised in the model's code
      throw std::invalid_argument(fmt::format("{}: {}() failed: {}", path_, method, brief(e.what())));
    }
  }

  at::Tensor scalar(const char* method, const c10::IValue& value) const {
    if (!value.isTensor() || value.toTensor().numel() != 1)
      throw std::invalid_argument(fmt::format("{}: {}() must return a tensor with one element, got {}", path_, method,
                                              value.isTensor() ? fmt::format("shape {}", shape(value.toTensor()))
                                                               : value.tagKind()));
    return value.toTensor().reshape({});
  }

  // forward's output, checked: one row per example, one column per class of the data (or per
  // regression target; lm: [B, T - 1, vocabulary] for the input without its last token).
  at::Tensor scores(const at::Tensor& x) {
    at::Tensor input = objective_input(objective_, x);
    c10::IValue out = call("forward", {input});
    if (!out.isTensor())
      throw std::invalid_argument(fmt::format("{}: forward() must return a tensor, got {}", path_, out.tagKind()));
    at::Tensor output = out.toTensor();
    std::vector<std::int64_t> expected = objective_output_shape(objective_, x, outputs_);
    if (output.sizes().vec() != expected)
      throw std::invalid_argument(fmt::format(
          "{}: forward() returned shape {} for an input of shape {}; objective {} needs [{}]: {} "
          "(or define loss() and metric() for another objective)",
          path_, shape(output), shape(input), name(objective_), fmt::join(expected, ", "), what_outputs_are()));
    return output;
  }

  std::string what_outputs_are() const {
    if (objective_ == Objective::Regression) return fmt::format("one value per target of y ({} per example)", outputs_);
    if (objective_ == Objective::LanguageModel)
      return fmt::format("scores over the vocabulary of {} at each input position", outputs_);
    return fmt::format("one score per class ({} classes)", outputs_);
  }

  static std::string shape(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

  std::string path_;
  jit::Module module_;
  Objective objective_;
  std::int64_t outputs_;
  bool has_loss_ = false, has_metric_ = false;
  std::vector<at::Tensor> parameters_;
};

}  // namespace

std::unique_ptr<ChildModel> load_torchscript_model(const std::string& path, Objective objective, std::int64_t outputs,
                                                   std::uint64_t seed) {
  auto model = std::make_unique<TorchScriptModel>(path, load_once(path), objective, outputs);
  model->init(seed);
  return model;
}

}  // namespace nos::runtime
