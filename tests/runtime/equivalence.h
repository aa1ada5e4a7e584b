// Shared by the CPU and GPU optimizer tests: Adam, SGD and RMSProp written as rules against
// LibTorch's optimizers with matched hyperparameters (eps 1e-8), on the same network and batches.
//
// Two comparisons, because they prove different things:
//  * shadowed: the rule trains the network; LibTorch's optimizer updates a copy of the parameters
//    with the very same gradients each step. What remains is float32 rounding of the update
//    arithmetic alone, over a real 200-step trajectory: a tight tolerance.
//  * free-running: two networks, each trained by its own optimizer. They agree to rounding for the
//    first ~100 steps, then drift apart: once the 128 random examples are nearly memorized, Adam and
//    RMSProp divide tiny gradients by their tiny RMS, which amplifies last-bit differences and ReLU
//    units flipping. A loose tolerance, relative to how far training moved the parameters.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "runtime/models.h"
#include "runtime/rule_optimizer.h"

namespace nos::testing {

// Float32 tolerances over 200 steps, shared by the CPU and GPU tests. Shadowed: the rule and
// LibTorch round the same formula differently (LibTorch's Adam divides by
// sqrt(v)/sqrt(1-beta2^t) + eps, the rule by sqrt(v/(1-beta2^t)) + eps), a few ulps per step of
// parameters of magnitude <= 1. Free-running: 1e-3, under 1% of how far training moved them, and
// rounding-level agreement over the first 50 steps.
constexpr double kShadowedMaxAbs = 1e-6;
constexpr double kFreeEarlyMaxAbs = 1e-6;
constexpr double kFreeFinalMaxAbs = 1e-3;

struct Batch {
  torch::Tensor x, y;
};

// Fixed random batches of Fashion-MNIST-shaped data (1x28x28, 10 classes).
inline std::vector<Batch> random_batches(const torch::Device& device, int count = 4, int size = 32) {
  torch::manual_seed(1234);
  std::vector<Batch> batches;
  for (int i = 0; i < count; ++i)
    batches.push_back({torch::randn({size, 1, 28, 28}).to(device), torch::randint(0, 10, {size}, torch::kLong).to(device)});
  return batches;
}

// The mlp of nos-train (two hidden layers here, so the test covers several weight shapes).
inline torch::nn::Sequential test_model(const torch::Device& device, std::uint64_t seed = 42) {
  torch::manual_seed(seed);
  runtime::ModelSpec spec;
  spec.hidden = {64, 32};
  torch::nn::Sequential model = runtime::make_model(spec, {1, 28, 28}, 10);
  model->to(device);
  return model;
}

inline void backward_on(torch::nn::Sequential& model, const Batch& batch) {
  torch::nn::functional::cross_entropy(model->forward(batch.x), batch.y).backward();
}

inline void train_steps(torch::nn::Sequential& model, torch::optim::Optimizer& optimizer,
                        const std::vector<Batch>& batches, int steps, int first_step = 0) {
  for (int s = first_step; s < first_step + steps; ++s) {
    optimizer.zero_grad();
    backward_on(model, batches[static_cast<std::size_t>(s) % batches.size()]);
    optimizer.step();
  }
}

struct Distance {
  double max_abs = 0;    // largest |a - b| over every parameter element
  double max_moved = 0;  // largest |b - initial|: how far training moved the parameters
  bool all_finite = true;
};

inline Distance distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                         const std::vector<torch::Tensor>& initial) {
  Distance d;
  for (std::size_t i = 0; i < a.size(); ++i) {
    torch::Tensor x = a[i].detach().cpu().to(torch::kDouble), y = b[i].detach().cpu().to(torch::kDouble);
    torch::Tensor start = initial[i].detach().cpu().to(torch::kDouble);
    d.all_finite = d.all_finite && torch::isfinite(x).all().item<bool>() && torch::isfinite(y).all().item<bool>();
    d.max_abs = std::max(d.max_abs, (x - y).abs().max().item<double>());
    d.max_moved = std::max(d.max_moved, (y - start).abs().max().item<double>());
  }
  return d;
}

inline std::vector<torch::Tensor> detached_copy(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> copy;
  for (const torch::Tensor& p : params) copy.push_back(p.detach().clone().requires_grad_());
  return copy;
}

using TorchOptimizerFactory = std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>;

struct EquivalenceCase {
  std::string rule;
  double lr;
  TorchOptimizerFactory torch_optimizer;
};

inline std::vector<EquivalenceCase> equivalence_cases() {
  using namespace torch::optim;
  return {
      {"adam", 1e-3, [](auto p) { return std::make_unique<Adam>(p, AdamOptions(1e-3).eps(1e-8)); }},
      {"g", 0.05, [](auto p) { return std::make_unique<SGD>(p, SGDOptions(0.05)); }},
      {"rmsprop with beta2 = 0.99, bias_correction = off", 1e-3,
       [](auto p) { return std::make_unique<RMSprop>(p, RMSpropOptions(1e-3).alpha(0.99).eps(1e-8)); }},
  };
}

inline constexpr int kEquivalenceSteps = 200;

struct EquivalenceResult {
  Distance shadowed;       // after kEquivalenceSteps, same gradients
  Distance free_early;     // free-running, after 50 steps
  Distance free_final;     // free-running, after kEquivalenceSteps
  std::int64_t rule_steps = 0;
};

inline EquivalenceResult run_equivalence(const EquivalenceCase& c, const torch::Device& device,
                                         const std::string& backend) {
  std::vector<Batch> batches = random_batches(device);
  auto rule = compiler::compile_text(c.rule);
  auto options = RuleOptimizerOptions(c.lr).backend(backend);
  std::vector<torch::Tensor> initial = detached_copy(test_model(device)->parameters());
  EquivalenceResult result;

  torch::nn::Sequential model = test_model(device);
  RuleOptimizer rule_opt(model->parameters(), rule, options);
  std::vector<torch::Tensor> shadow = detached_copy(model->parameters());
  auto shadow_opt = c.torch_optimizer(shadow);
  for (int s = 0; s < kEquivalenceSteps; ++s) {
    rule_opt.zero_grad();
    backward_on(model, batches[static_cast<std::size_t>(s) % batches.size()]);
    std::vector<torch::Tensor> params = model->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) shadow[i].mutable_grad() = params[i].grad().clone();
    rule_opt.step();
    shadow_opt->step();
  }
  result.shadowed = distance(model->parameters(), shadow, initial);
  result.rule_steps = rule_opt.step_count();

  torch::nn::Sequential with_rule = test_model(device), with_torch = test_model(device);
  RuleOptimizer free_rule(with_rule->parameters(), rule, options);
  auto free_torch = c.torch_optimizer(with_torch->parameters());
  train_steps(with_rule, free_rule, batches, 50);
  train_steps(with_torch, *free_torch, batches, 50);
  result.free_early = distance(with_rule->parameters(), with_torch->parameters(), initial);
  train_steps(with_rule, free_rule, batches, kEquivalenceSteps - 50, 50);
  train_steps(with_torch, *free_torch, batches, kEquivalenceSteps - 50, 50);
  result.free_final = distance(with_rule->parameters(), with_torch->parameters(), initial);
  return result;
}

}  // namespace nos::testing
