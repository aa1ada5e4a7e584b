// The evaluate API's torch-free half besides JSON: the check of a spec and its split.
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "compiler/codegen/kernel_abi.h"
#include "runtime/evaluate.h"

namespace nos::runtime {

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
  if (std::string problem = task_problem(s); !problem.empty()) return problem;
  if (s.threads < 0 || s.threads > codegen::kMaxThreads)
    return fmt::format("threads {} is outside 0..{}", s.threads, codegen::kMaxThreads);
  if (s.backend != "auto" && s.backend != "interp" && s.backend != "cpu" && s.backend != "cuda")
    return fmt::format("unknown backend '{}' (auto, interp, cpu, cuda)", s.backend);
  if (s.check_every < 0 || s.check_every > 1000000)
    return fmt::format("check_every {} is outside 0..1000000", s.check_every);
  if (s.lrs.empty()) return "no learning rate given";
  for (double lr : s.lrs)
    if (std::string problem = codegen::learning_rate_problem(lr); !problem.empty())
      return fmt::format("learning rate {} {}", lr, problem);
  if (!(s.time_budget >= 0) || !std::isfinite(s.time_budget))
    return fmt::format("time_budget {} must be a finite number of seconds >= 0", s.time_budget);
  return {};
}

}  // namespace nos::runtime
