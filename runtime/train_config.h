// What a child training run is asked to do and what it reports: plain structs, torch-free, shared by
// the trainer, the learning-rate sweep, the JSON report and nos-train.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/compile.h"

namespace nos::runtime {

// How a child run (or an evaluation) ended. Strings only in JSON (name / parse_status).
enum class Status {
  Ok,             // completed every epoch
  Diverged,       // the loss became NaN/inf or exploded (DivergenceGuard)
  TimeBudget,     // stopped early by the time budget; its metrics cover what it trained
  CompileFailed,  // the rule, or its kernel for this backend, could not be built
};
const char* name(Status status);  // "ok", "diverged", "time_budget", "compile_failed"
std::optional<Status> parse_status(std::string_view text);
bool usable(Status status);       // Ok or TimeBudget: the run's accuracy means something

// A model is a built-in child, by name, or the path of the user's TorchScript file (`torch.jit.save`
// of a scripted or traced nn.Module: docs/tasks.md).
const std::vector<std::string>& model_names();  // the built-ins: "mlp", "convnet" (models.h)
bool is_builtin_model(std::string_view name);

struct ModelSpec {
  std::string name = "mlp";               // a built-in's name, or a TorchScript file's path
  std::vector<std::int64_t> hidden{256};  // mlp: hidden layer widths, 1 .. kMaxHiddenWidth
};

// The widest hidden layer a spec may ask for: wider is a typo, not a child network (nos-train's and
// nos-search's --hidden, spec_problem). The whole model is bounded apart (models.h).
inline constexpr std::int64_t kMaxHiddenWidth = std::int64_t{1} << 24;

// The optimizer under test: a compiled rule, or one of LibTorch's for comparison.
struct OptimizerSpec {
  std::optional<compiler::CompiledRule> rule;
  std::string torch_optimizer;  // "adam" | "rmsprop" | "sgd" when there is no rule
  double momentum = 0;          // sgd only
  std::string describe() const; // the rule's text, or e.g. "torch sgd (momentum 0.9)"
};

struct TrainConfig {
  ModelSpec model;
  int epochs = 1;
  std::int64_t batch_size = 128;
  double lr = 1e-3;
  std::string device = "cpu";     // "cpu", "cuda" or "cuda:N"
  std::uint64_t seed = 0;         // model init, data order, the rule's random streams
  int threads = 0;                // LibTorch intra-op threads and CPU kernel threads; 0 = LibTorch's default
  std::string backend = "auto";   // RuleOptimizerOptions::backend
  double time_budget = 0;         // seconds for this run; 0 = none
  int last_k = 3;                 // epochs the mean/max validation accuracy are taken over
  double divergence_factor = 1e3; // stop when the loss exceeds this multiple of the first loss
};

struct EpochRecord {
  int epoch = 0;                  // 1-based
  double train_loss = 0;          // mean over the epoch's batches
  double val_loss = 0;
  double val_acc = 0;             // 0..1
  double seconds = 0;             // wall time of the epoch, validation included
  bool complete = true;           // false when the run stopped inside this epoch
};

using EpochCallback = std::function<void(const EpochRecord&)>;

struct RunResult {
  double lr = 0;
  Status status = Status::Ok;
  std::string message;                   // why it stopped early, e.g. "loss is nan at step 12"
  std::vector<EpochRecord> history;
  std::vector<double> batch_losses;      // the loss curve: one value per step, or per loss_every steps
  std::size_t loss_every = 1;            // steps per value of batch_losses (> 1 when read from JSON)
  std::int64_t steps = 0;
  double val_acc = 0;                    // at the end of the run (final validation accuracy)
  double val_acc_mean_last_k = 0;
  double val_acc_max_last_k = 0;
  int last_k = 0;                        // epochs the two above cover (fewer if the run was shorter)
  double seconds = 0;                    // the whole run
  double compile_seconds = 0;            // building the rule's kernels
  double train_seconds = 0;              // forward, backward and optimizer steps
  double validation_seconds = 0;         // the per-epoch validation
  std::string backend;                   // the kernel backend a rule ran on; "torch" otherwise
};

}  // namespace nos::runtime
