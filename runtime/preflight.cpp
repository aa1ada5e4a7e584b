#include "runtime/preflight.h"

#include <new>
#include <stdexcept>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/utils.h>

#include "runtime/child_model.h"
#include "runtime/objective.h"

namespace nos::runtime {
namespace {

// A model that fails on the data (a user's TorchScript file: the wrong input shape, an output that
// does not match the classes, an error it raises) fails here, once, with its message: one training
// step's loss and gradients on two examples, and a validation score.
void check_one_batch(ChildModel& model, Objective objective, const Split& split) {
  auto rows = [&](const Dataset& d) {
    std::int64_t n = std::min<std::int64_t>(2, d.size());
    std::vector<std::int64_t> shape{n};
    shape.insert(shape.end(), d.shape.begin(), d.shape.end());
    torch::Tensor x = torch::from_blob(const_cast<float*>(d.features.data()), shape, torch::kFloat).clone();
    if (objective == Objective::Regression)
      return std::make_pair(x, torch::from_blob(const_cast<float*>(d.targets.data()), {n, d.target_width}, torch::kFloat).clone());
    if (objective == Objective::LanguageModel) return std::make_pair(x, torch::zeros({n}, torch::kLong));
    return std::make_pair(x, torch::from_blob(const_cast<std::int64_t*>(d.labels.data()), {n}, torch::kLong).clone());
  };
  auto [x, y] = rows(split.train);
  model.loss(x, y).backward();
  torch::NoGradGuard no_grad;
  model.set_training(false);
  auto [vx, vy] = rows(split.val);
  model.score(vx, vy);
}

}  // namespace

ChildPreflight preflight_child(const EvaluateSpec& spec) {
  if (std::string problem = spec_problem(spec); !problem.empty()) throw std::invalid_argument(problem);
  ChildPreflight out;
  out.data = load_dataset(spec.data);
  out.split = split_dataset(out.data, split_options(spec));
  out.warnings = split_warnings(out.split);
  // Built once, as train() builds it: make_model refuses what is too large before allocating, and
  // an allocation that fails anyway is the spec's problem, not a bug.
  try {
    const Objective objective = resolve_objective(spec.objective, out.split.train, spec.model.name);
    out.objective = objective;
    std::unique_ptr<ChildModel> model =
        make_child_model(spec.model, objective, out.split.train.shape, objective_outputs(objective, out.split.train),
                         out.split.train.vocabulary, spec.seed);
    check_one_batch(*model, objective, out.split);
  } catch (const std::bad_alloc&) {
    throw std::invalid_argument(fmt::format("model {}: cannot be allocated on this machine", spec.model.name));
  } catch (const c10::Error& e) {
    throw std::invalid_argument(fmt::format("model {}: cannot be built: {}", spec.model.name, e.what_without_backtrace()));
  }
  return out;
}

}  // namespace nos::runtime
