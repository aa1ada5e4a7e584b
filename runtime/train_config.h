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
#include "runtime/task.h"

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

// The optimizer under test: a compiled rule, or one of LibTorch's for comparison.
struct OptimizerSpec {
  std::optional<compiler::CompiledRule> rule;
  std::string torch_optimizer;  // "adam" | "rmsprop" | "sgd" when there is no rule
  double momentum = 0;          // sgd only
  std::string describe() const; // the rule's text, or e.g. "torch sgd (momentum 0.9)"
};

// How one child run is carried out: where, with how many threads and which kernels, with which
// seed and for how long. Not the task's: the same task trains on any device, under any seed.
struct RunSettings {
  std::string device = "cpu";     // "cpu", "cuda" or "cuda:N"
  std::uint64_t seed = 0;         // model init, data order, the rule's random streams
  int threads = 0;                // LibTorch intra-op threads and CPU kernel threads; 0 = LibTorch's default
  std::string backend = "auto";   // the rule's kernel backend (RuleOptimizerOptions::backend): auto, interp, cpu, cuda
  double time_budget = 0;         // seconds; 0 = none
  // Steps between reads of the loss on the host (the divergence guard, the loss curve): a read
  // makes the host wait for the device. 0: 1 on the CPU, 32 on CUDA (runtime/loss_reader.h).
  int check_every = 0;
  // Capture one training step in a CUDA graph and replay it (runtime/step_graph.h); where that is
  // impossible (the CPU included) the same steps run eagerly and RunResult::graph says why.
  bool cuda_graphs = false;
};

// One training run: the task (model, epochs, batch size, last_k, divergence_factor; the trainer
// is given the data already split), how it runs, and its learning rate.
struct TrainConfig : TaskSpec, RunSettings {
  double lr = 1e-3;

  TaskSpec& task() { return *this; }
  RunSettings& run() { return *this; }
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
  std::string graph;                     // with cuda_graphs: "graph", or "eager: WHY"; else empty
};

}  // namespace nos::runtime
