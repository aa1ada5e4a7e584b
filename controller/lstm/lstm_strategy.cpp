#include "controller/lstm/lstm_strategy.h"

#include <cmath>
#include <limits>
#include <map>

#include "controller/lstm/policy.h"
#include "controller/rng.h"
#include "controller/state_bytes.h"

namespace nos::controller {
namespace {

constexpr OptionSpec kOptions[] = {
    {"batch", "20", "proposals per batch (the method: 4 to 60)"},
    {"groups", "2", "groups per sequence, or a schedule over batches such as 1:100,2:300,3"},
    {"algorithm", "ppo", "ppo (clipped surrogate, several epochs per batch) or reinforce"},
    {"learning_rate", "0.002", "Adam's step size on the controller's parameters"},
    {"ppo_epochs", "4", "PPO: passes over each batch"},
    {"ppo_clip", "0.2", "PPO: the probability ratio is clipped to [1 - c, 1 + c]"},
    {"entropy_weight", "0.001", "weight of the entropy bonus (nats per sequence)"},
    {"baseline_decay", "0.95", "decay of the reward baseline, an exponential moving average"},
    {"max_grad_norm", "1.0", "gradients are scaled down to this global norm (0: no clipping)"},
    {"reward", "identity", "reward transform of the observed metric: identity, square, cube, sqrt"},
    {"temperature", "1.0", "logits are divided by it before the cap and the softmax"},
    {"logit_cap", "2.5", "logits become cap * tanh(logits) (0: no cap)"},
    {"embedding", "150", "width of the token embedding"},
    {"hidden", "150", "LSTM units per layer"},
    {"layers", "1", "LSTM layers"},
    {"init_range", "0.08", "every parameter starts uniform in [-r, r]"},
    {"device", "cpu", "cpu, or cuda[:N] where LibTorch has CUDA"},
};

std::vector<float> to_floats(const torch::Tensor& t) {
  torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
  const float* p = cpu.data_ptr<float>();
  return std::vector<float>(p, p + cpu.numel());
}

void assign(torch::Tensor& t, const std::vector<float>& values) {
  torch::NoGradGuard no_grad;
  torch::Tensor cpu = torch::from_blob(const_cast<float*>(values.data()), t.sizes(), torch::kFloat32);
  t.copy_(cpu);
}

torch::Device parse_device(const std::string& text) {
  if (text != "cpu" && !text.starts_with("cuda"))
    throw OptionError("option 'device': expected cpu or cuda[:N], got '" + text + "'");
  torch::Device device = torch::kCPU;
  try {
    device = torch::Device(text);
  } catch (const std::exception&) {
    throw OptionError("option 'device': expected cpu or cuda[:N], got '" + text + "'");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw OptionError("option 'device': " + text + " requested, but this LibTorch sees no CUDA device");
  return device;
}

}  // namespace

struct LstmStrategy::Impl {
  Impl(const Config& config, std::uint64_t seed, Rng init_rng)
      : init(std::move(init_rng)),
        sampling(seed ^ 0x5DEECE66Dull),
        policy(lstm::PolicyShape{config.groups.max_groups(), config.embedding, config.hidden, config.layers,
                                 config.temperature, config.logit_cap},
               init, config.init_range, parse_device(config.device)) {
    for (const torch::Tensor& p : policy.parameters()) {
      adam_m.push_back(torch::zeros_like(p).detach());
      adam_v.push_back(torch::zeros_like(p).detach());
      adam_steps.push_back(0);
    }
  }

  Rng init;      // draws the initial parameters, then unused
  Rng sampling;  // the one stream a saved state carries
  lstm::Policy policy;
  std::vector<torch::Tensor> adam_m, adam_v;
  std::vector<std::int64_t> adam_steps;  // per parameter tensor, like torch.optim.Adam
  std::uint64_t proposed = 0, updates = 0;
  double baseline = 0;
  bool baseline_set = false;
  std::vector<Statistic> last;

  struct Loss {
    torch::Tensor loss, objective, entropy, kl;
  };
  Loss loss(const Config& config, std::span<const Outcome> outcomes, std::span<const double> advantages) const;
  void clear_gradients();
  double clip_gradients(double max_norm);
  void adam_step(double learning_rate);
};

LstmStrategy::Impl::Loss LstmStrategy::Impl::loss(const Config& config, std::span<const Outcome> outcomes,
                                                  std::span<const double> advantages) const {
  // Sequences of different lengths (a schedule step inside the batch) are scored in one pass each.
  std::map<std::size_t, std::vector<std::size_t>> by_length;
  for (std::size_t i = 0; i < outcomes.size(); ++i) by_length[outcomes[i].proposal.tokens.size()].push_back(i);
  auto options = torch::TensorOptions().dtype(torch::kFloat32).device(policy.device());
  torch::Tensor objective = torch::zeros({}, options), entropy = objective, kl = objective;
  for (const auto& [length, members] : by_length) {
    std::vector<const dsl::TokenSequence*> sequences;
    std::vector<float> old_log_prob, advantage;
    for (std::size_t i : members) {
      sequences.push_back(&outcomes[i].proposal.tokens);
      advantage.push_back(static_cast<float>(advantages[i]));
      if (config.algorithm == Algorithm::Ppo)
        old_log_prob.push_back(static_cast<float>(sample_log_prob(outcomes[i].proposal.data)));
    }
    lstm::Scores scores = policy.score(sequences);
    torch::Tensor a = torch::tensor(advantage).to(policy.device());
    if (config.algorithm == Algorithm::Ppo) {
      torch::Tensor old = torch::tensor(old_log_prob).to(policy.device());
      torch::Tensor ratio = torch::exp(scores.log_prob - old);
      torch::Tensor clipped = torch::clamp(ratio, 1 - config.ppo_clip, 1 + config.ppo_clip);
      objective = objective + torch::min(ratio * a, clipped * a).sum();
      kl = kl + (old - scores.log_prob).detach().sum();
    } else {
      objective = objective + (a * scores.log_prob).sum();
    }
    entropy = entropy + scores.entropy.sum();
  }
  double n = static_cast<double>(outcomes.size());
  objective = objective / n;
  entropy = entropy / n;
  return {-objective - config.entropy_weight * entropy, objective, entropy, kl / n};
}

void LstmStrategy::Impl::clear_gradients() {
  for (torch::Tensor& p : policy.parameters()) p.mutable_grad() = torch::Tensor();
}

// torch.nn.utils.clip_grad_norm_'s rule: scale by max / (norm + 1e-6) when the global norm exceeds max.
double LstmStrategy::Impl::clip_gradients(double max_norm) {
  torch::NoGradGuard no_grad;
  double squares = 0;
  for (torch::Tensor& p : policy.parameters())
    if (p.grad().defined()) squares += p.grad().pow(2).sum().item<double>();
  double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm)
    for (torch::Tensor& p : policy.parameters())
      if (p.grad().defined()) p.mutable_grad().mul_(max_norm / (norm + 1e-6));
  return norm;
}

// Adam (Kingma & Ba) in torch.optim.Adam's arithmetic, with the state kept here so that it is
// saved as plain bytes.
void LstmStrategy::Impl::adam_step(double learning_rate) {
  torch::NoGradGuard no_grad;
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  auto& params = policy.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& g = params[i].grad();
    if (!g.defined()) continue;
    std::int64_t step = ++adam_steps[i];
    adam_m[i].mul_(beta1).add_(g, 1 - beta1);
    adam_v[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
    double bc1 = 1 - std::pow(beta1, static_cast<double>(step)), bc2 = 1 - std::pow(beta2, static_cast<double>(step));
    torch::Tensor denom = (adam_v[i].sqrt() / std::sqrt(bc2)).add_(eps);
    params[i].addcdiv_(adam_m[i], denom, -learning_rate / bc1);
  }
}

// ---- LstmStrategy ----------------------------------------------------------------------------

LstmStrategy::Config LstmStrategy::parse(const Options& options) {
  options.check_known("lstm", kOptions);
  Config c;
  c.batch = static_cast<int>(options.get_int("batch", 20, 1, kMaxBatch));
  c.groups = GroupSchedule::parse(options.get_string("groups", "2"));
  std::string algorithm = options.get_string("algorithm", "ppo");
  if (algorithm == "ppo")
    c.algorithm = Algorithm::Ppo;
  else if (algorithm == "reinforce")
    c.algorithm = Algorithm::Reinforce;
  else
    throw OptionError("option 'algorithm': expected ppo or reinforce, got '" + algorithm + "'");
  c.learning_rate = options.get_double("learning_rate", c.learning_rate, 0, 1e3);
  c.ppo_epochs = static_cast<int>(options.get_int("ppo_epochs", c.ppo_epochs, 1, 1000));
  c.ppo_clip = options.get_double("ppo_clip", c.ppo_clip, 0, 1);
  c.entropy_weight = options.get_double("entropy_weight", c.entropy_weight, 0, 1e3);
  c.baseline_decay = options.get_double("baseline_decay", c.baseline_decay, 0, 1);
  c.max_grad_norm = options.get_double("max_grad_norm", c.max_grad_norm, 0, 1e9);
  c.reward = parse_reward_transform(options.get_string("reward", "identity"));
  c.temperature = options.get_double("temperature", c.temperature, 1e-3, 1e3);
  c.logit_cap = options.get_double("logit_cap", c.logit_cap, 0, 1e3);
  c.embedding = static_cast<int>(options.get_int("embedding", c.embedding, 1, 1 << 14));
  c.hidden = static_cast<int>(options.get_int("hidden", c.hidden, 1, 1 << 14));
  c.layers = static_cast<int>(options.get_int("layers", c.layers, 1, 16));
  c.init_range = options.get_double("init_range", c.init_range, 0, 10);
  c.device = options.get_string("device", "cpu");
  parse_device(c.device);
  return c;
}

StrategyInfo LstmStrategy::info() {
  return {"lstm", "the method's LSTM controller trained by policy gradient (PPO or REINFORCE)", kOptions,
          [](const Options& options, std::uint64_t seed) -> std::unique_ptr<Strategy> {
            return std::make_unique<LstmStrategy>(parse(options), seed);
          }};
}

void register_lstm_strategy() { register_strategy(LstmStrategy::info()); }

LstmStrategy::LstmStrategy(Config config, std::uint64_t seed)
    : config_(std::move(config)), impl_(std::make_unique<Impl>(config_, seed, Rng(seed))) {}

LstmStrategy::~LstmStrategy() = default;

std::string LstmStrategy::sample_data(double log_prob) {
  ByteWriter out("lstm-sample");
  out.f64(log_prob);
  return out.take();
}

double LstmStrategy::sample_log_prob(const std::string& data) {
  ByteReader in(data, "lstm-sample");
  double log_prob = in.f64();
  in.expect_end();
  return log_prob;
}

std::vector<Proposal> LstmStrategy::propose(int count) {
  std::vector<Proposal> out;
  while (static_cast<int>(out.size()) < count) {
    // A run of proposals with the same number of groups (the schedule counts whole batches).
    std::uint64_t at = impl_->proposed;
    std::int64_t batch = static_cast<std::int64_t>(at / config_.batch);
    int groups = config_.groups.groups_at(batch);
    std::uint64_t batch_end = (static_cast<std::uint64_t>(batch) + 1) * config_.batch;
    int run = static_cast<int>(std::min<std::uint64_t>(count - out.size(), batch_end - at));
    for (lstm::Sample& s : impl_->policy.sample(run, groups, impl_->sampling))
      out.push_back({impl_->proposed++, std::move(s.tokens), -1, "sample", sample_data(s.log_prob)});
  }
  return out;
}

void LstmStrategy::observe(std::span<const Outcome> outcomes) {
  if (outcomes.empty()) return;
  std::vector<double> rewards;
  for (const Outcome& o : outcomes) {
    std::string which = "lstm: proposal #" + std::to_string(o.proposal.index);
    if (!std::isfinite(o.reward)) throw std::invalid_argument(which + ": the reward is not finite");
    const dsl::TokenSequence& t = o.proposal.tokens;
    if (t.empty() || static_cast<int>(t.size()) > max_groups())
      throw std::invalid_argument(which + " has " + std::to_string(t.size()) + " groups; this controller writes 1 to " +
                                  std::to_string(max_groups()));
    dsl::print_tokens(t);  // throws std::out_of_range for an invalid token
    if (config_.algorithm == Algorithm::Ppo) sample_log_prob(o.proposal.data);  // refuses foreign data
    rewards.push_back(transform_reward(config_.reward, o.reward));
  }
  double mean = 0;
  for (double r : rewards) mean += r;
  mean /= static_cast<double>(rewards.size());
  // The first batch's mean starts the baseline, so its advantages are centred too. Advantages use the
  // baseline of the earlier batches; then this batch enters the average.
  if (!impl_->baseline_set) {
    impl_->baseline = mean;
    impl_->baseline_set = true;
  }
  std::vector<double> advantages;
  for (double r : rewards) advantages.push_back(r - impl_->baseline);
  double used_baseline = impl_->baseline;
  impl_->baseline = config_.baseline_decay * impl_->baseline + (1 - config_.baseline_decay) * mean;

  int epochs = config_.algorithm == Algorithm::Ppo ? config_.ppo_epochs : 1;
  double first_loss = 0, first_entropy = 0, grad_norm = 0, kl = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    Impl::Loss loss = impl_->loss(config_, outcomes, advantages);
    impl_->clear_gradients();
    loss.loss.backward();
    grad_norm = impl_->clip_gradients(config_.max_grad_norm);
    impl_->adam_step(config_.learning_rate);
    if (epoch == 0) {
      first_loss = loss.loss.item<double>();
      first_entropy = loss.entropy.item<double>();
    }
    kl = loss.kl.item<double>();
  }
  impl_->clear_gradients();
  ++impl_->updates;
  impl_->last = {{"updates", static_cast<double>(impl_->updates)},
                 {"mean_reward", mean},
                 {"baseline", used_baseline},
                 {"loss", first_loss},
                 {"entropy", first_entropy},
                 {"grad_norm", grad_norm},
                 {"kl", kl}};
}

std::vector<Proposal> LstmStrategy::beam_search(int groups, int k) const {
  if (groups < 1 || groups > max_groups())
    throw std::invalid_argument("lstm: beam search over " + std::to_string(groups) + " groups; this controller writes 1 to " +
                                std::to_string(max_groups()));
  std::vector<Proposal> out;
  for (lstm::Sample& s : impl_->policy.beam_search(groups, std::max(k, 1))) {
    std::string origin = k == 1 ? "greedy decode" : "beam search, k=" + std::to_string(k);
    out.push_back({std::numeric_limits<std::uint64_t>::max(), std::move(s.tokens), -1, origin, sample_data(s.log_prob)});
  }
  return out;
}

std::vector<Proposal> LstmStrategy::best(int k) const {
  if (k <= 0) return {};
  return beam_search(config_.groups.groups_at(static_cast<std::int64_t>(impl_->proposed / config_.batch)), k);
}

std::vector<Statistic> LstmStrategy::statistics() const {
  std::vector<Statistic> out = impl_->last;
  out.push_back({"proposed", static_cast<double>(impl_->proposed)});
  out.push_back({"groups", static_cast<double>(config_.groups.groups_at(static_cast<std::int64_t>(impl_->proposed / config_.batch)))});
  return out;
}

double LstmStrategy::log_prob(const dsl::TokenSequence& tokens) const {
  torch::NoGradGuard no_grad;
  return impl_->policy.score({&tokens}).log_prob.item<double>();
}

int LstmStrategy::head_size(int step) const { return impl_->policy.head_size(step); }

double LstmStrategy::baseline() const { return impl_->baseline; }

std::vector<LstmStrategy::NamedValues> LstmStrategy::parameters() const {
  std::vector<NamedValues> out;
  for (const auto& [name, view] : impl_->policy.named_views(impl_->policy.parameters()))
    out.push_back({name, view.sizes().vec(), to_floats(view)});
  return out;
}

LstmStrategy::LossCheck LstmStrategy::loss_gradient(std::span<const Outcome> outcomes, std::span<const double> advantages) {
  if (outcomes.empty() || advantages.size() != outcomes.size())
    throw std::invalid_argument("lstm: loss_gradient needs one advantage per outcome");
  Impl::Loss loss = impl_->loss(config_, outcomes, advantages);
  impl_->clear_gradients();
  loss.loss.backward();
  LossCheck check{loss.loss.item<double>(), loss.objective.item<double>(), loss.entropy.item<double>(), {}};
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& p : impl_->policy.parameters())
    gradients.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  for (const auto& [name, view] : impl_->policy.named_views(gradients))
    check.gradient.push_back({name, view.sizes().vec(), to_floats(view)});
  impl_->clear_gradients();
  return check;
}

// ---- Saved state -----------------------------------------------------------------------------

namespace {

std::string shape_text(const LstmStrategy::Config& c) {
  return "batch=" + std::to_string(c.batch) + " groups=" + c.groups.text() + " embedding=" + std::to_string(c.embedding) +
         " hidden=" + std::to_string(c.hidden) + " layers=" + std::to_string(c.layers);
}

}  // namespace

std::string LstmStrategy::save() const {
  ByteWriter out("lstm");
  out.str(shape_text(config_));
  out.u64(impl_->proposed);
  out.u64(impl_->updates);
  out.f64(impl_->baseline);
  out.u64(impl_->baseline_set ? 1 : 0);
  impl_->sampling.save(out);
  const auto& params = impl_->policy.parameters();
  out.u64(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    out.str(impl_->policy.names()[i]);
    out.floats(to_floats(params[i]));
    out.floats(to_floats(impl_->adam_m[i]));
    out.floats(to_floats(impl_->adam_v[i]));
    out.i64(impl_->adam_steps[i]);
  }
  out.u64(impl_->last.size());
  for (const Statistic& s : impl_->last) {
    out.str(s.name);
    out.f64(s.value);
  }
  return out.take();
}

void LstmStrategy::restore(std::string_view state) {
  ByteReader in(state, "lstm");
  if (std::string saved = in.str(), mine = shape_text(config_); saved != mine)
    bad_state("saved with " + saved + "; these options give " + mine);
  std::uint64_t proposed = in.u64(), updates = in.u64();
  double baseline = in.f64();
  bool baseline_set = in.u64() != 0;
  Rng sampling;
  sampling.restore(in);
  const auto& params = impl_->policy.parameters();
  if (in.u64() != params.size()) bad_state("another number of parameter tensors");
  struct Saved {
    std::vector<float> value, m, v;
    std::int64_t step;
  };
  std::vector<Saved> saved(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (in.str() != impl_->policy.names()[i]) bad_state("parameter " + impl_->policy.names()[i] + " is not where expected");
    saved[i].value = in.floats();
    saved[i].m = in.floats();
    saved[i].v = in.floats();
    saved[i].step = in.i64();
    std::size_t n = static_cast<std::size_t>(params[i].numel());
    if (saved[i].value.size() != n || saved[i].m.size() != n || saved[i].v.size() != n)
      bad_state("parameter " + impl_->policy.names()[i] + " has " + std::to_string(saved[i].value.size()) +
                " values, expected " + std::to_string(n));
  }
  std::uint64_t statistics = in.u64();
  if (statistics > 64) bad_state("too many statistics");
  std::vector<Statistic> last;
  for (std::uint64_t i = 0; i < statistics; ++i) {
    std::string name = in.str();
    last.push_back({name, in.f64()});
  }
  in.expect_end();
  // Everything read and checked: only now does the strategy change.
  for (std::size_t i = 0; i < params.size(); ++i) {
    assign(impl_->policy.parameters()[i], saved[i].value);
    assign(impl_->adam_m[i], saved[i].m);
    assign(impl_->adam_v[i], saved[i].v);
    impl_->adam_steps[i] = saved[i].step;
  }
  impl_->proposed = proposed;
  impl_->updates = updates;
  impl_->baseline = baseline;
  impl_->baseline_set = baseline_set;
  impl_->sampling = sampling;
  impl_->last = std::move(last);
}

void LstmStrategy::restore_shared(std::string_view state) {
  Rng sampling = impl_->sampling;
  std::uint64_t proposed = impl_->proposed;
  restore(state);
  impl_->sampling = sampling;
  impl_->proposed = proposed;
}

}  // namespace nos::controller
