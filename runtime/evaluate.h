// The one "evaluate this candidate" API: a candidate (a rule, or one of LibTorch's optimizers for
// comparison) and the child run to judge it by (model, data, subset, epochs, batch size, seed,
// threads, device, learning rate or grid, time budget, metric) in; a result with a status,
// metrics, curves and timings out. nos-train, `nos-bench train` and the search's workers call it.
//
// The spec and result types and their JSON (evaluate_json.cpp) are torch-free, in
// nos_runtime_core, so a process that only schedules and stores evaluations needs no LibTorch;
// evaluate() itself trains, in nos_runtime.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "runtime/data/dataset.h"
#include "runtime/train_config.h"

namespace nos::runtime {

struct EvaluateSpec : TaskSpec, RunSettings {
  // The candidate: a rule, or (without one) LibTorch's "adam" | "rmsprop" | "sgd".
  std::optional<compiler::RuleSource> rule;
  std::string torch_optimizer;
  double momentum = 0;  // sgd only

  // The child run: the task (model, data, split, epochs, batch size, metric: task.h) and how it
  // runs (device, seed, threads, backend, time budget: RunSettings), here for the whole
  // evaluation, shared by the grid.
  // The train/validation split and subset; absent: `seed`. A search fixes it, so that every
  // candidate is judged on the same validation examples while each child has its own seed.
  std::optional<std::uint64_t> split_seed;
  std::vector<double> lrs{1e-3};       // one learning rate, or a grid: every rate from the same start

  TaskSpec& task() { return *this; }
  const TaskSpec& task() const { return *this; }
  RunSettings& run() { return *this; }
  const RunSettings& run() const { return *this; }
};

// Why `spec` cannot run, naming the field; empty when it can. evaluate() throws it as
// std::invalid_argument; from_json() checks it too.
std::string spec_problem(const EvaluateSpec& spec);

struct Timings {
  double compile = 0;     // the rule (compile API) and its kernels
  double data = 0;        // loading and splitting the data
  double training = 0;    // the training steps of every run
  double validation = 0;  // the per-epoch validation of every run
  double total = 0;       // the whole evaluation, wall clock
};

struct DataInfo {
  std::string source;              // what load_dataset read, e.g. the file it found
  std::int64_t train_size = 0, val_size = 0, classes = 0;
  std::vector<std::int64_t> shape;  // of one example
};

struct EvaluateResult {
  // Ok, Diverged, TimeBudget: the best run's; CompileFailed: the rule or its kernel could not be
  // built (no run, or runs that stopped at their first step).
  Status status = Status::Ok;
  std::string message;                        // why, when not ok
  std::optional<compiler::CompiledRule> rule; // the candidate's identity, when it is a rule that compiled
  std::string optimizer;                      // OptimizerSpec::describe(): the rule, or "torch sgd ..."
  double metric = 0;                          // spec.metric of the best run
  // The task's objective resolved on the data (objective.h): what `metric` measures (accuracy, or a
  // negated loss). A rule that fails to compile stops before the data is read: spec.objective then,
  // Classification for Auto.
  Objective objective = Objective::Classification;
  double lr = 0;                              // the best run's learning rate
  std::vector<RunResult> runs;                // one per learning rate, in spec.lrs order
  std::size_t best = 0;                       // index into runs
  DataInfo data;
  Timings timings;
};

struct Observer {
  std::function<void(double lr)> on_run_start;  // before each run of the grid
  EpochCallback on_epoch;                       // after each epoch
};

// What a caller may have prepared already: the rule compiled (its warnings reported, its errors
// refused: nos-train), the data loaded (the search's workers, nos-bench's seeds). Borrowed.
struct Prepared {
  const compiler::CompiledRule* rule = nullptr;  // used instead of spec.rule
  const Dataset* data = nullptr;                 // used instead of loading spec.data
  // Used instead of splitting the data: the caller made it with split_options(spec) (a worker
  // splits once for every candidate).
  const Split* split = nullptr;
};

// The split `spec` asks for: its val_fraction, train_subset and split seed.
SplitOptions split_options(const EvaluateSpec& spec);

// Never throws for what the candidate does (diverging, a rule or kernel that cannot be built: a
// status). Throws std::invalid_argument for a spec that cannot run (spec_problem, an unknown
// device, a model that does not fit the data or the machine) and for data that cannot be read.
EvaluateResult evaluate(const EvaluateSpec& spec, const Observer& observer = {}, const Prepared& prepared = {});

// Why this machine cannot train on `device` ("cpu", "cuda", "cuda:N"): e.g. "device 'cuda:0': no
// CUDA device is available to this LibTorch build"; empty when it can. evaluate() throws it; a
// long-lived process (a search's worker) asks once at start. In nos_runtime (LibTorch).
std::string device_problem(const std::string& device);

// JSON, the one place for it: the spec's keys are its field names (rule: {"text"|"file"|"tokens",
// "name"}; the task's keys as task.h writes them, model: {"name", "hidden"}; metric and status as
// strings). from_json throws
// std::invalid_argument naming the key for a missing candidate, a wrong type or a bad value; keys
// that are absent take the defaults above.
nlohmann::json to_json(const EvaluateSpec& spec);
EvaluateSpec spec_from_json(const nlohmann::json& j);
// The best run's fields at the top level (status, message, lr, val_acc, ..., history, loss_curve),
// then metric {name, value} (and, when the objective is not classification, "objective" and the
// metric's label: metric {name, label, value}, e.g. "neg_mse"; classification's JSON is as before
// objectives existed), rule {name, text, canonical_text, hash} or torch/momentum, sweep (every
// run), best, data, timings and spec.
nlohmann::json to_json(const EvaluateResult& result, const EvaluateSpec& spec);
// The result's fields back (rule: its identity only, no IR); throws std::invalid_argument.
EvaluateResult result_from_json(const nlohmann::json& j);

}  // namespace nos::runtime
