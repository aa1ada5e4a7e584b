#include "controller/lstm/policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsl/vocabulary.h"

namespace nos::controller::lstm {
namespace {

torch::Tensor uniform_tensor(std::vector<std::int64_t> shape, Rng& rng, double range, torch::Device device) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  std::vector<float> values(static_cast<std::size_t>(n));
  for (float& v : values) v = static_cast<float>((2 * rng.uniform() - 1) * range);
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone().to(device).set_requires_grad(true);
}

}  // namespace

Policy::Policy(const PolicyShape& shape, Rng& rng, double init_range, torch::Device device)
    : shape_(shape), device_(device) {
  // The vocabulary of inputs: the placeholder (0), then operands (incl. every group result),
  // unaries and binaries, so the embedding knows which slot a token came from.
  std::int64_t operands = dsl::choices(shape.max_groups - 1, 0);
  slot_offset_[0] = 1;
  slot_offset_[1] = 1 + operands;
  slot_offset_[2] = slot_offset_[1] + static_cast<std::int64_t>(dsl::tokens(dsl::Slot::Unary).size());
  std::int64_t vocabulary = slot_offset_[2] + static_cast<std::int64_t>(dsl::tokens(dsl::Slot::Binary).size());
  auto add = [&](std::string name, std::vector<std::int64_t> dims) {
    names_.push_back(std::move(name));
    parameters_.push_back(uniform_tensor(std::move(dims), rng, init_range, device));
    return parameters_.back();
  };
  embedding_ = add("embedding", {vocabulary, shape.embedding});
  for (int l = 0; l < shape.layers; ++l) {
    std::int64_t in = l == 0 ? shape.embedding : shape.hidden;
    std::string suffix = "_l" + std::to_string(l);
    w_ih_.push_back(add("weight_ih" + suffix, {4 * shape.hidden, in}));
    w_hh_.push_back(add("weight_hh" + suffix, {4 * shape.hidden, shape.hidden}));
    b_ih_.push_back(add("bias_ih" + suffix, {4 * shape.hidden}));
    b_hh_.push_back(add("bias_hh" + suffix, {4 * shape.hidden}));
  }
  const int steps = 5 * shape.max_groups;
  int widest = 0;
  for (int t = 0; t < steps; ++t) {
    head_sizes_.push_back(dsl::choices(t / 5, t % 5));
    widest = std::max(widest, head_sizes_.back());
  }
  head_w_ = add("head_weight", {steps, widest, shape.hidden});
  head_b_ = add("head_bias", {steps, widest});
  std::vector<std::uint8_t> invalid(static_cast<std::size_t>(steps * widest));
  for (int t = 0; t < steps; ++t)
    for (int k = head_sizes_[t]; k < widest; ++k) invalid[static_cast<std::size_t>(t * widest + k)] = 1;
  invalid_ = torch::tensor(invalid, torch::kBool).view({steps, 1, widest}).to(device);
  mask_ = torch::zeros({steps, 1, widest}, torch::TensorOptions().dtype(torch::kFloat32).device(device))
              .masked_fill(invalid_, -std::numeric_limits<float>::infinity());
}

int Policy::head_size(int step) const { return head_sizes_.at(static_cast<std::size_t>(step)); }

std::vector<std::pair<std::string, torch::Tensor>> Policy::named_views(const std::vector<torch::Tensor>& tensors) const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (names_[i] == "head_weight" || names_[i] == "head_bias") {
      std::string part = names_[i] == "head_weight" ? "_weight" : "_bias";
      for (std::size_t t = 0; t < head_sizes_.size(); ++t)
        out.emplace_back("head" + std::to_string(t) + part, tensors[i][static_cast<std::int64_t>(t)].narrow(0, 0, head_sizes_[t]));
    } else {
      out.emplace_back(names_[i], tensors[i]);
    }
  }
  return out;
}

std::int64_t Policy::vocabulary_index(int step, std::uint16_t id) const {
  return slot_offset_[static_cast<int>(dsl::kGroupSlots[step % 5])] + id;
}

Policy::State Policy::initial_state(std::int64_t batch) const {
  State s;
  auto zeros = torch::zeros({batch, shape_.hidden}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  for (int l = 0; l < shape_.layers; ++l) {
    s.h.push_back(zeros);
    s.c.push_back(zeros);
  }
  return s;
}

torch::Tensor Policy::cell(int l, const torch::Tensor& input_projection, State& state) const {
  const std::int64_t n = shape_.hidden;
  torch::Tensor gates = torch::addmm(input_projection + b_hh_[l], state.h[l], w_hh_[l].t());
  torch::Tensor sig = torch::sigmoid(gates);  // one call for i, f, o (its g part is unused)
  torch::Tensor g = torch::tanh(gates.narrow(1, 2 * n, n));
  state.c[l] = torch::addcmul(sig.narrow(1, n, n) * state.c[l], sig.narrow(1, 0, n), g);
  state.h[l] = sig.narrow(1, 3 * n, n) * torch::tanh(state.c[l]);
  return state.h[l];
}

torch::Tensor Policy::recur(const torch::Tensor& layer0_projection, State& state) const {
  torch::Tensor x = cell(0, layer0_projection, state);
  for (int l = 1; l < shape_.layers; ++l) x = cell(l, torch::addmm(b_ih_[l], x, w_ih_[l].t()), state);
  return x;
}

torch::Tensor Policy::step(int t, const torch::Tensor& previous, State& state) const {
  torch::Tensor x = recur(torch::addmm(b_ih_[0], embedding_.index_select(0, previous), w_ih_[0].t()), state);
  const std::int64_t k = head_sizes_[t];
  torch::Tensor logits = torch::addmm(head_b_[t].narrow(0, 0, k), x, head_w_[t].narrow(0, 0, k).t());
  if (shape_.temperature != 1.0) logits = logits / shape_.temperature;
  if (shape_.logit_cap > 0) logits = shape_.logit_cap * torch::tanh(logits);
  return torch::log_softmax(logits, 1);
}

std::vector<Sample> Policy::sample(int count, int groups, Rng& rng) const {
  torch::NoGradGuard no_grad;
  std::vector<Sample> out(static_cast<std::size_t>(count));
  for (Sample& s : out) s.tokens.resize(static_cast<std::size_t>(groups));
  auto index_options = torch::TensorOptions().dtype(torch::kInt64);
  State state = initial_state(count);
  torch::Tensor previous = torch::zeros({count}, index_options).to(device_);
  std::vector<std::int64_t> next(static_cast<std::size_t>(count));
  for (int t = 0; t < 5 * groups; ++t) {
    torch::Tensor log_p = step(t, previous, state).to(torch::kCPU).contiguous();
    auto lp = log_p.accessor<float, 2>();
    const int k = static_cast<int>(log_p.size(1));
    for (int b = 0; b < count; ++b) {
      // Inverse-CDF draw with our own stream: the same bits on every machine.
      double u = rng.uniform(), cumulative = 0;
      int pick = k - 1;
      for (int j = 0; j < k; ++j) {
        cumulative += std::exp(static_cast<double>(lp[b][j]));
        if (u < cumulative) {
          pick = j;
          break;
        }
      }
      out[b].tokens[t / 5][t % 5] = static_cast<std::uint16_t>(pick);
      out[b].log_prob += lp[b][pick];
      next[b] = vocabulary_index(t, static_cast<std::uint16_t>(pick));
    }
    previous = torch::tensor(next, index_options).to(device_);
  }
  return out;
}

Scores Policy::score(const std::vector<const dsl::TokenSequence*>& sequences) const {
  const std::int64_t batch = static_cast<std::int64_t>(sequences.size());
  const int steps = 5 * static_cast<int>(sequences.at(0)->size());
  auto index_options = torch::TensorOptions().dtype(torch::kInt64);
  // chosen[t][b]: the token taken at step t; inputs[t][b]: the vocabulary index fed at step t.
  std::vector<std::int64_t> chosen(static_cast<std::size_t>(steps * batch)), inputs(chosen.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (int t = 0; t < steps; ++t) {
      std::uint16_t id = (*sequences[b])[t / 5][t % 5];
      chosen[t * batch + b] = id;
      if (t + 1 < steps) inputs[(t + 1) * batch + b] = vocabulary_index(t, id);
    }
  torch::Tensor chosen_t = torch::tensor(chosen, index_options).view({steps, batch, 1}).to(device_);
  torch::Tensor inputs_t = torch::tensor(inputs, index_options).to(device_);
  // Teacher forcing: every input is known, so the embedding and all output layers run batched over
  // the time steps; only the recurrence goes step by step.
  torch::Tensor projected = torch::addmm(b_ih_[0], embedding_.index_select(0, inputs_t), w_ih_[0].t())
                                .view({steps, batch, 4 * shape_.hidden});
  State state = initial_state(batch);
  std::vector<torch::Tensor> outputs;
  for (int t = 0; t < steps; ++t) outputs.push_back(recur(projected[t], state));
  torch::Tensor hidden = torch::stack(outputs);  // [steps, batch, hidden]
  torch::Tensor logits = torch::baddbmm(head_b_.narrow(0, 0, steps).unsqueeze(1), hidden,
                                        head_w_.narrow(0, 0, steps).transpose(1, 2));
  if (shape_.temperature != 1.0) logits = logits / shape_.temperature;
  if (shape_.logit_cap > 0) logits = shape_.logit_cap * torch::tanh(logits);
  torch::Tensor log_p = torch::log_softmax(logits + mask_.narrow(0, 0, steps), 2);
  torch::Tensor log_prob = log_p.gather(2, chosen_t).squeeze(2).sum(0);
  torch::Tensor entropy = -(log_p.exp() * log_p.masked_fill(invalid_.narrow(0, 0, steps), 0)).sum(2).sum(0);
  return {log_prob, entropy};
}

std::vector<Sample> Policy::beam_search(int groups, int k) const {
  torch::NoGradGuard no_grad;
  struct Beam {
    dsl::TokenSequence tokens;
    double log_prob;
  };
  std::vector<Beam> beams{{dsl::TokenSequence(static_cast<std::size_t>(groups)), 0.0}};
  auto index_options = torch::TensorOptions().dtype(torch::kInt64);
  State state = initial_state(1);
  torch::Tensor previous = torch::zeros({1}, index_options).to(device_);
  for (int t = 0; t < 5 * groups; ++t) {
    torch::Tensor log_p = step(t, previous, state).to(torch::kCPU).contiguous();
    auto lp = log_p.accessor<float, 2>();
    struct Candidate {
      double log_prob;
      std::size_t beam;
      int token;
    };
    std::vector<Candidate> candidates;
    for (std::size_t b = 0; b < beams.size(); ++b)
      for (int j = 0; j < log_p.size(1); ++j) candidates.push_back({beams[b].log_prob + lp[b][j], b, j});
    // Ties go to the earlier beam and the smaller token: the result does not depend on sort internals.
    std::size_t keep = std::min(candidates.size(), static_cast<std::size_t>(k));
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                      [](const Candidate& a, const Candidate& b) {
                        if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
                        return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
                      });
    std::vector<Beam> next;
    std::vector<std::int64_t> parents, inputs;
    for (std::size_t i = 0; i < keep; ++i) {
      Beam beam = beams[candidates[i].beam];
      beam.tokens[t / 5][t % 5] = static_cast<std::uint16_t>(candidates[i].token);
      beam.log_prob = candidates[i].log_prob;
      next.push_back(std::move(beam));
      parents.push_back(static_cast<std::int64_t>(candidates[i].beam));
      inputs.push_back(vocabulary_index(t, static_cast<std::uint16_t>(candidates[i].token)));
    }
    torch::Tensor parent_t = torch::tensor(parents, index_options).to(device_);
    for (int l = 0; l < shape_.layers; ++l) {
      state.h[l] = state.h[l].index_select(0, parent_t);
      state.c[l] = state.c[l].index_select(0, parent_t);
    }
    previous = torch::tensor(inputs, index_options).to(device_);
    beams = std::move(next);
  }
  std::vector<Sample> out;
  for (Beam& b : beams) out.push_back({std::move(b.tokens), b.log_prob});
  return out;
}

}  // namespace nos::controller::lstm
