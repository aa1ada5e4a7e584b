// What a child training run is asked to do and what it reports: plain structs, torch-free, shared by
// the trainer, the learning-rate sweep, the JSON report and nos-train.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/rule_source.h"

namespace nos::runtime {

struct ModelSpec {
  std::string name = "mlp";               // "mlp" or "convnet" (models.h)
  std::vector<std::int64_t> hidden{256};  // mlp: hidden layer widths
};

// The optimizer under test: a compiled rule, or one of LibTorch's for comparison.
struct OptimizerSpec {
  std::optional<CompiledRule> rule;
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

struct RunResult {
  double lr = 0;
  std::string status = "ok";             // "ok" | "diverged"
  std::string stop_reason = "completed"; // "completed" | "diverged" | "time_budget"
  std::string message;                   // why it diverged, e.g. "loss is nan at step 12"
  std::vector<EpochRecord> history;
  std::vector<double> batch_losses;      // the loss curve, one value per step
  std::int64_t steps = 0;
  double val_acc = 0;                    // at the end of the run (final validation accuracy)
  double val_acc_mean_last_k = 0;
  double val_acc_max_last_k = 0;
  int last_k = 0;                        // epochs the two above cover (fewer if the run was shorter)
  double seconds = 0;
  std::string backend;                   // the kernel backend a rule ran on; "torch" otherwise
};

}  // namespace nos::runtime
