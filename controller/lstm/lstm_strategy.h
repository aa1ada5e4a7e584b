// The `lstm` strategy, as the method describes it: a recurrent controller (controller/lstm/policy.h)
// samples token sequences and learns from their rewards by policy gradient, PPO (default) or
// REINFORCE, with an exponential-moving-average baseline, an entropy bonus, gradient clipping and
// Adam. Torch-free header: LibTorch stays in policy.cpp and lstm_strategy.cpp.
#pragma once

#include <memory>

#include "controller/group_schedule.h"
#include "controller/reward.h"
#include "controller/strategy.h"

namespace nos::controller {

// Adds `lstm` to strategies() / make_strategy(): call once before naming it (tools that link
// nos_controller_lstm do this in main).
void register_lstm_strategy();

class LstmStrategy final : public Strategy {
 public:
  enum class Algorithm { Ppo, Reinforce };
  struct Config {
    int batch = 20;
    GroupSchedule groups{2};
    int embedding = 150, hidden = 150, layers = 1;
    double init_range = 0.08;
    double temperature = 1.0, logit_cap = 2.5;
    Algorithm algorithm = Algorithm::Ppo;
    double learning_rate = 0.002;
    int ppo_epochs = 4;
    double ppo_clip = 0.2;
    double entropy_weight = 0.001;
    double baseline_decay = 0.95;
    double max_grad_norm = 1.0;
    RewardTransform reward = RewardTransform::Identity;
    std::string device = "cpu";
  };
  static Config parse(const Options& options);
  static StrategyInfo info();

  LstmStrategy(Config config, std::uint64_t seed);
  ~LstmStrategy() override;

  std::string_view name() const override { return "lstm"; }
  int batch_size() const override { return config_.batch; }
  std::vector<Proposal> propose(int count) override;
  using Strategy::propose;
  void observe(std::span<const Outcome> outcomes) override;
  // Beam search over the current number of groups (k = 1: the greedy decode).
  std::vector<Proposal> best(int k) const override;
  std::vector<Statistic> statistics() const override;
  std::string save() const override;
  void restore(std::string_view state) override;
  // The shared part is save()'s whole form (parameters, Adam moments, baseline, updates); restoring
  // it keeps this copy's sampling stream and count of proposals.
  std::string save_shared() const override { return save(); }
  void restore_shared(std::string_view state) override;

  // ---- For tests and tools ----
  std::vector<Proposal> beam_search(int groups, int k) const;
  double log_prob(const dsl::TokenSequence& tokens) const;  // under the current policy
  int head_size(int step) const;                            // output width at time step 5 * group + position
  int max_groups() const { return config_.groups.max_groups(); }
  double baseline() const;

  struct NamedValues {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float> values;
  };
  // Parameters in their fixed order: embedding [placeholder, operands (group results included),
  // unaries, binaries], weight_ih_lL, weight_hh_lL, bias_ih_lL, bias_hh_lL per layer (LSTM gate
  // order i, f, g, o), then headT_weight, headT_bias per time step T (without their padding).
  std::vector<NamedValues> parameters() const;

  struct LossCheck {
    double loss = 0, objective = 0, entropy = 0;
    std::vector<NamedValues> gradient;  // d loss / d parameter, same order as parameters()
  };
  // The training loss of the configured algorithm and its gradient at the current parameters, for
  // given advantages, without an update: PPO's -mean(min(r A, clip(r, 1-c, 1+c) A)) with
  // r = exp(log_prob - the sample's stored log_prob), or REINFORCE's -mean(A log_prob); both minus
  // entropy_weight * mean entropy.
  LossCheck loss_gradient(std::span<const Outcome> outcomes, std::span<const double> advantages);

  // The data a proposal carries: its log-probability when it was sampled.
  static std::string sample_data(double log_prob);
  static double sample_log_prob(const std::string& data);

 private:
  struct Impl;
  Config config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nos::controller
