// The network a child run trains and its objective, behind one interface: a built-in model
// (models.h) or the user's TorchScript file (torchscript_model.cpp). The trainer and the preflight
// see only this, so that another front end (a Python objective calling NOS's optimizer, say) can
// be added beside them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "runtime/train_config.h"

namespace nos::runtime {

// A validation chunk's loss and metric, each summed over its rows (the trainer divides by the
// number of rows: a model's loss and metric are means over a batch).
struct ChunkScore {
  double loss_sum = 0;
  double metric_sum = 0;
};

class ChildModel {
 public:
  virtual ~ChildModel() = default;
  // What the rule trains, in a fixed order (the rule's random streams are keyed by the position).
  virtual std::vector<at::Tensor> parameters() = 0;
  virtual void set_training(bool training) = 0;
  virtual void to(const c10::Device& device) = 0;
  // The objective on one training batch: a scalar to minimize.
  virtual at::Tensor loss(const at::Tensor& x, const at::Tensor& y) = 0;
  // One validation chunk, without gradients. The metric is higher-is-better: accuracy unless the
  // model defines its own (rows with a non-finite output count as wrong: a NaN model must not score
  // by argmax's tie-breaking).
  virtual ChunkScore score(const at::Tensor& x, const at::Tensor& y) = 0;
};

// The child for `spec` training `objective` (resolved: objective.h) on data of `example_shape`, its
// network giving `outputs` values per example (per position for lm: objective_outputs) (and token ids below
// `vocabulary` when it is > 0: Dataset::vocabulary; a TorchScript model gets them as float32
// numbers, exact, and converts them with x.long()). The built-ins draw
// their initial weights from LibTorch's generator seeded with `seed`; a TorchScript model calls its
// `init(seed)` when it has one, and otherwise starts from the file's weights (every child, whatever
// its seed, from the same start). Throws std::invalid_argument naming the model for a model that
// cannot be built: unknown, too large, not a usable TorchScript file.
std::unique_ptr<ChildModel> make_child_model(const ModelSpec& spec, Objective objective,
                                             const std::vector<std::int64_t>& example_shape, std::int64_t outputs,
                                             std::int64_t vocabulary, std::uint64_t seed);

// The classification objective on a batch's class scores: summed cross entropy, and the number of
// rows whose argmax is the label.
ChunkScore classification_score(const at::Tensor& logits, const at::Tensor& labels);

// The objectives on a network's output (objective_score.cpp). y is the batch's int64 labels
// (classification), its float targets [B, K] (regression), or unused (lm: the targets are x's
// next tokens).
// What the network reads of the batch x: x, or for lm every position but the last.
at::Tensor objective_input(Objective objective, const at::Tensor& x);
// The shape the output must have for the batch x: [B, outputs], or [B, T - 1, outputs] for lm.
std::vector<std::int64_t> objective_output_shape(Objective objective, const at::Tensor& x, std::int64_t outputs);
// The training loss, the batch's mean: cross entropy (per position for lm) or mean squared error.
at::Tensor objective_loss(Objective objective, const at::Tensor& output, const at::Tensor& x, const at::Tensor& y);
// Summed over rows: the loss per example (lm: mean over its positions, in nats) and the metric
// (accuracy's right answers; -squared error averaged over the targets; -bits per token).
ChunkScore objective_score(Objective objective, const at::Tensor& output, const at::Tensor& x, const at::Tensor& y);

// The user's TorchScript model (torchscript_model.cpp): loaded once per process and file version,
// copied for every child.
std::unique_ptr<ChildModel> load_torchscript_model(const std::string& path, Objective objective, std::int64_t outputs,
                                                   std::uint64_t seed);

}  // namespace nos::runtime
