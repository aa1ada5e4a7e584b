// The objectives' losses and metrics on a network's output (task.h: Objective): one place, shared
// by the built-in models and the TorchScript ones.
#include <cmath>

#include <torch/nn/functional/loss.h>

#include "runtime/child_model.h"

namespace nos::runtime {
namespace {

namespace F = torch::nn::functional;

// lm: the token after each input position, as class indices.
at::Tensor next_tokens(const at::Tensor& x) { return x.slice(1, 1).to(torch::kLong); }

}  // namespace

at::Tensor objective_input(Objective objective, const at::Tensor& x) {
  return objective == Objective::LanguageModel ? x.slice(1, 0, x.size(1) - 1) : x;
}

std::vector<std::int64_t> objective_output_shape(Objective objective, const at::Tensor& x, std::int64_t outputs) {
  if (objective == Objective::LanguageModel) return {x.size(0), x.size(1) - 1, outputs};
  return {x.size(0), outputs};
}

at::Tensor objective_loss(Objective objective, const at::Tensor& output, const at::Tensor& x, const at::Tensor& y) {
  if (objective == Objective::Regression) return F::mse_loss(output, y);
  if (objective == Objective::LanguageModel)
    return F::cross_entropy(output.reshape({-1, output.size(-1)}), next_tokens(x).reshape({-1}));
  return F::cross_entropy(output, y);
}

ChunkScore objective_score(Objective objective, const at::Tensor& output, const at::Tensor& x, const at::Tensor& y) {
  ChunkScore score;
  if (objective == Objective::Regression) {
    // Each row's squared error averaged over its targets: the sum over rows / rows is the MSE.
    score.loss_sum = (output - y).square().mean(1).sum().item<double>();
    score.metric_sum = -score.loss_sum;
    return score;
  }
  if (objective == Objective::LanguageModel) {
    const double positions = static_cast<double>(output.size(1));
    const double nats = F::cross_entropy(output.reshape({-1, output.size(-1)}), next_tokens(x).reshape({-1}),
                                         F::CrossEntropyFuncOptions().reduction(torch::kSum))
                            .item<double>();
    score.loss_sum = nats / positions;                 // each row's mean over its positions
    score.metric_sum = -score.loss_sum / std::log(2.0);  // bits per token, negated: higher is better
    return score;
  }
  return classification_score(output, y);
}

}  // namespace nos::runtime
