// The evaluate API's torch-free half besides JSON: metric names and the check of a spec.
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "compiler/codegen/kernel_abi.h"
#include "runtime/evaluate.h"

namespace nos::runtime {
namespace {

constexpr std::pair<Metric, const char*> kMetricNames[] = {
    {Metric::ValAcc, "val_acc"}, {Metric::ValAccMeanLastK, "val_acc_mean_last_k"}, {Metric::ValAccMaxLastK, "val_acc_max_last_k"}};

}  // namespace

const char* name(Metric metric) {
  for (auto [m, text] : kMetricNames)
    if (m == metric) return text;
  return "?";
}

std::optional<Metric> parse_metric(std::string_view text) {
  for (auto [m, name] : kMetricNames)
    if (text == name) return m;
  return std::nullopt;
}

SplitOptions split_options(const EvaluateSpec& spec) {
  SplitOptions options;
  options.val_fraction = spec.val_fraction;
  options.train_subset = spec.train_subset;
  options.seed = spec.split_seed.value_or(spec.seed);
  return options;
}

std::string spec_problem(const EvaluateSpec& s) {
  if (s.rule.has_value() == !s.torch_optimizer.empty()) return "give exactly one candidate: a rule or a torch optimizer";
  if (!s.rule && s.torch_optimizer != "adam" && s.torch_optimizer != "rmsprop" && s.torch_optimizer != "sgd")
    return fmt::format("unknown torch optimizer '{}' (adam, rmsprop, sgd)", s.torch_optimizer);
  if (!(s.momentum >= 0 && s.momentum <= 1)) return fmt::format("momentum {} is outside [0, 1]", s.momentum);
  if (std::error_code ec; !is_builtin_model(s.model.name) && !std::filesystem::exists(s.model.name, ec))
    return fmt::format("unknown model '{}': not a built-in (mlp, convnet) and no such TorchScript file", s.model.name);
  for (std::int64_t width : s.model.hidden)
    if (width < 1 || width > kMaxHiddenWidth)
      return fmt::format("hidden layer width {} is outside 1..{}", width, kMaxHiddenWidth);
  if (s.data.empty()) return "no data given";
  if (s.train_subset < 0) return fmt::format("train_subset {} is negative", s.train_subset);
  if (!(s.val_fraction > 0 && s.val_fraction < 1))
    return fmt::format("val_fraction {} must lie strictly between 0 and 1", s.val_fraction);
  if (s.epochs < 1 || s.epochs > 100000) return fmt::format("epochs {} is outside 1..100000", s.epochs);
  if (s.batch_size < 1 || s.batch_size > (1 << 20)) return fmt::format("batch_size {} is outside 1..{}", s.batch_size, 1 << 20);
  if (s.threads < 0 || s.threads > codegen::kMaxThreads)
    return fmt::format("threads {} is outside 0..{}", s.threads, codegen::kMaxThreads);
  if (s.backend != "auto" && s.backend != "interp" && s.backend != "cpu" && s.backend != "cuda")
    return fmt::format("unknown backend '{}' (auto, interp, cpu, cuda)", s.backend);
  if (s.lrs.empty()) return "no learning rate given";
  for (double lr : s.lrs)
    if (std::string problem = codegen::learning_rate_problem(lr); !problem.empty())
      return fmt::format("learning rate {} {}", lr, problem);
  if (!(s.time_budget >= 0) || !std::isfinite(s.time_budget))
    return fmt::format("time_budget {} must be a finite number of seconds >= 0", s.time_budget);
  if (s.last_k < 1 || s.last_k > 100000) return fmt::format("last_k {} is outside 1..100000", s.last_k);
  if (!(s.divergence_factor > 1) || !std::isfinite(s.divergence_factor))
    return fmt::format("divergence_factor {} must be a finite number above 1", s.divergence_factor);
  return {};
}

}  // namespace nos::runtime
