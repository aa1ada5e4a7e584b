#include "runtime/evaluate.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "runtime/objective.h"
#include "runtime/trainer.h"

namespace nos::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double metric_of(const RunResult& run, Metric metric) {
  switch (metric) {
    case Metric::ValAcc: return run.val_acc;
    case Metric::ValAccMeanLastK: return run.val_acc_mean_last_k;
    case Metric::ValAccMaxLastK: return run.val_acc_max_last_k;
  }
  return run.val_acc;
}

// The best run by the spec's metric among runs whose metric means something (ok or out of time);
// ties go to the earlier learning rate.
std::size_t best_by(const std::vector<RunResult>& runs, Metric metric) {
  std::size_t best = 0;
  auto rank = [&](const RunResult& r) { return std::pair{usable(r.status), metric_of(r, metric)}; };
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (rank(runs[i]) > rank(runs[best])) best = i;
  return best;
}

}  // namespace

std::string device_problem(const std::string& device) {
  std::string why;
  return device_available(device, &why) ? std::string() : why;
}

EvaluateResult evaluate(const EvaluateSpec& spec, const Observer& observer, const Prepared& prepared) {
  if (std::string problem = spec_problem(spec); !problem.empty()) throw std::invalid_argument(problem);
  std::string why;
  if (!device_available(spec.device, &why)) throw std::invalid_argument(why);
  auto start = Clock::now();
  EvaluateResult result;
  if (spec.objective != Objective::Auto) result.objective = spec.objective;

  OptimizerSpec optimizer;
  optimizer.torch_optimizer = spec.torch_optimizer;
  optimizer.momentum = spec.momentum;
  if (prepared.rule) {
    optimizer.rule = *prepared.rule;
  } else if (spec.rule) {
    try {
      optimizer.rule = compiler::compile_one(*spec.rule);
    } catch (const dsl::Error& e) {  // the candidate's fault: a result, like a kernel that fails
      result.status = Status::CompileFailed;
      result.message = e.diagnostic().render();
      result.timings.compile = result.timings.total = seconds_since(start);
      return result;
    }
  }
  if (optimizer.rule) result.rule = *optimizer.rule;
  result.optimizer = optimizer.describe();
  result.timings.compile = seconds_since(start);

  auto data_start = Clock::now();
  Split made;
  if (!prepared.split) {
    Dataset loaded;
    if (!prepared.data) loaded = load_dataset(spec.data);
    made = split_dataset(prepared.data ? *prepared.data : loaded, split_options(spec));
  }
  const Split& split = prepared.split ? *prepared.split : made;
  result.data = {split.train.source, split.train.size(), split.val.size(), split.train.num_classes, split.train.shape};
  result.timings.data = seconds_since(data_start);
  // What train() resolves again for each run: the same answer, known here for the result's metric.
  result.objective = resolve_objective(spec.objective, split.train, spec.model.name);

  TrainConfig config;
  config.task() = spec.task();
  config.run() = spec.run();
  // The budget is the whole evaluation's, shared equally so every learning rate gets the same chance.
  if (spec.time_budget > 0) config.time_budget = spec.time_budget / static_cast<double>(spec.lrs.size());
  for (double lr : spec.lrs) {
    if (observer.on_run_start) observer.on_run_start(lr);
    config.lr = lr;
    result.runs.push_back(train(split, optimizer, config, observer.on_epoch));
    const RunResult& run = result.runs.back();
    result.timings.compile += run.compile_seconds;
    result.timings.training += run.train_seconds;
    result.timings.validation += run.validation_seconds;
    if (run.status == Status::CompileFailed) break;  // every rate would fail the same way
  }
  result.best = best_by(result.runs, spec.metric);
  const RunResult& best = result.runs[result.best];
  result.status = best.status;
  result.message = best.message;
  result.lr = best.lr;
  result.metric = metric_of(best, spec.metric);
  result.timings.total = seconds_since(start);
  return result;
}

}  // namespace nos::runtime
