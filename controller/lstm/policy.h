// The method's controller network (Fig. 2): an embedding of the previous token (a learned
// placeholder at the first step), LSTM layers, and one output layer per time step whose size is
// dsl::choices(group, position), so every sampled token is valid by construction. The output layers
// are stored as one padded tensor so that training scores all time steps in one batched product;
// the padding is masked to -inf, never sampled, and gets no gradient. LibTorch inside: include this
// only from controller/lstm/*.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "controller/rng.h"
#include "dsl/tokens.h"

namespace nos::controller::lstm {

struct PolicyShape {
  int max_groups = 2;   // heads exist for this many groups (5 per group)
  int embedding = 150;  // embedding width
  int hidden = 150;     // LSTM units per layer
  int layers = 1;
  double temperature = 1.0;  // logits / temperature ...
  double logit_cap = 2.5;    // ... then cap * tanh(logits) when cap > 0 (0: no cap)
};

// Log-probability and entropy of whole sequences, one entry per sequence (autograd-tracked when
// computed with grad enabled).
struct Scores {
  torch::Tensor log_prob;  // [B]: sum over the sequence's tokens
  torch::Tensor entropy;   // [B]: sum over its time steps of the entropy of each step's distribution
};

struct Sample {
  dsl::TokenSequence tokens;
  double log_prob = 0;
};

class Policy {
 public:
  // Every parameter uniform in [-init_range, init_range], drawn from `rng` (not torch's generator)
  // so that a seed fixes the network on every machine and build.
  Policy(const PolicyShape& shape, Rng& rng, double init_range, torch::Device device);

  const PolicyShape& shape() const { return shape_; }
  torch::Device device() const { return device_; }
  std::vector<torch::Tensor>& parameters() { return parameters_; }
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }
  const std::vector<std::string>& names() const { return names_; }
  int head_size(int step) const;  // output width at time step `step` (5 * group + position)
  // Tensors laid out like parameters() (values or gradients) as named views, the padded output
  // layers split into headT_weight [K_T, hidden] and headT_bias [K_T]: what people and tests read.
  std::vector<std::pair<std::string, torch::Tensor>> named_views(const std::vector<torch::Tensor>& tensors) const;

  // `count` sequences of `groups` groups, sampled with `rng` (no autograd).
  std::vector<Sample> sample(int count, int groups, Rng& rng) const;
  // Teacher-forced scores of sequences that all have the same number of groups.
  Scores score(const std::vector<const dsl::TokenSequence*>& sequences) const;
  // The k most likely sequences of `groups` groups by beam search, best first (k = 1: greedy).
  std::vector<Sample> beam_search(int groups, int k) const;

 private:
  struct State {
    std::vector<torch::Tensor> h, c;  // per layer, [B, hidden]
  };
  State initial_state(std::int64_t batch) const;
  // The LSTM recurrence of layer l given its input projection x W_ih^T + b_ih (gate order i, f, g, o,
  // as torch::lstm_cell): teacher forcing computes the projections of all steps in one product.
  torch::Tensor cell(int l, const torch::Tensor& input_projection, State& state) const;
  torch::Tensor recur(const torch::Tensor& layer0_projection, State& state) const;  // all layers, one step
  // One time step: feeds the previous tokens' vocabulary indices, returns step log-probabilities [B, K].
  torch::Tensor step(int t, const torch::Tensor& previous, State& state) const;
  std::int64_t vocabulary_index(int step, std::uint16_t id) const;

  PolicyShape shape_;
  torch::Device device_;
  std::vector<torch::Tensor> parameters_;
  std::vector<std::string> names_;
  torch::Tensor embedding_;
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
  torch::Tensor head_w_, head_b_;  // [steps, K_max, hidden], [steps, K_max]
  torch::Tensor invalid_;          // [steps, 1, K_max]: true on the padding
  torch::Tensor mask_;             // the same as 0 / -inf, added to the logits
  std::vector<int> head_sizes_;
  std::int64_t slot_offset_[3] = {0, 0, 0};  // vocabulary offsets of the operand, unary, binary tokens
};

}  // namespace nos::controller::lstm
