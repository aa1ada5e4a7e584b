#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "controller/lstm/lstm_strategy.h"
#include "synthetic.h"

using namespace nos::controller;
using namespace nos::controller::test;
namespace dsl = nos::dsl;

namespace {

std::unique_ptr<LstmStrategy> make_lstm(Options options, std::uint64_t seed) {
  return std::make_unique<LstmStrategy>(LstmStrategy::parse(options), seed);
}

Reward target_reward(const dsl::TokenSequence& target) {
  return [target](const dsl::TokenSequence& t) { return target_fraction(t, target); };
}

// ---- A plain double-precision copy of the controller, from its exported parameters ----------

struct Matrix {
  std::int64_t rows = 0, cols = 1;
  std::vector<double> v;
  double at(std::int64_t r, std::int64_t c = 0) const { return v[r * cols + c]; }
};

using Params = std::map<std::string, Matrix>;

Params params_of(const std::vector<LstmStrategy::NamedValues>& named) {
  Params p;
  for (const auto& n : named) {
    Matrix m;
    m.rows = n.shape[0];
    m.cols = n.shape.size() > 1 ? n.shape[1] : 1;
    m.v.assign(n.values.begin(), n.values.end());
    p[n.name] = m;
  }
  return p;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct Reference {
  int max_groups;
  double temperature, cap;
  // log p(sequence) and the summed entropy of its steps, by the method's recurrence, written out.
  std::pair<double, double> score(const Params& p, const dsl::TokenSequence& seq) const {
    const Matrix& emb = p.at("embedding");
    const Matrix &wih = p.at("weight_ih_l0"), &whh = p.at("weight_hh_l0"), &bih = p.at("bias_ih_l0"),
                 &bhh = p.at("bias_hh_l0");
    std::int64_t hidden = whh.cols;
    std::vector<double> h(hidden, 0), c(hidden, 0);
    std::int64_t offset[3] = {1, 1 + dsl::choices(max_groups - 1, 0), 1 + dsl::choices(max_groups - 1, 0) + dsl::choices(0, 2)};
    std::int64_t input = 0;  // the placeholder
    double log_prob = 0, entropy = 0;
    for (int t = 0; t < 5 * static_cast<int>(seq.size()); ++t) {
      std::vector<double> gates(4 * hidden);
      for (std::int64_t r = 0; r < 4 * hidden; ++r) {
        double s = bih.at(r) + bhh.at(r);
        for (std::int64_t k = 0; k < emb.cols; ++k) s += wih.at(r, k) * emb.at(input, k);
        for (std::int64_t k = 0; k < hidden; ++k) s += whh.at(r, k) * h[k];
        gates[r] = s;
      }
      for (std::int64_t j = 0; j < hidden; ++j) {  // gate order i, f, g, o
        double i = sigmoid(gates[j]), f = sigmoid(gates[hidden + j]), g = std::tanh(gates[2 * hidden + j]),
               o = sigmoid(gates[3 * hidden + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * std::tanh(c[j]);
      }
      const Matrix &w = p.at("head" + std::to_string(t) + "_weight"), &b = p.at("head" + std::to_string(t) + "_bias");
      std::vector<double> z(w.rows);
      double zmax = -1e300;
      for (std::int64_t r = 0; r < w.rows; ++r) {
        double s = b.at(r);
        for (std::int64_t k = 0; k < hidden; ++k) s += w.at(r, k) * h[k];
        s /= temperature;
        if (cap > 0) s = cap * std::tanh(s);
        z[r] = s;
        zmax = std::max(zmax, s);
      }
      double sum = 0;
      for (double s : z) sum += std::exp(s - zmax);
      double log_sum = zmax + std::log(sum);
      std::uint16_t id = seq[t / 5][t % 5];
      log_prob += z[id] - log_sum;
      for (double s : z) entropy -= std::exp(s - log_sum) * (s - log_sum);
      input = offset[static_cast<int>(dsl::kGroupSlots[t % 5])] + id;
    }
    return {log_prob, entropy};
  }
};

// The loss written out from the reference scores (the formulas of the method's update, Fig. 3).
double reference_loss(const Reference& ref, const Params& p, const std::vector<Outcome>& outcomes,
                      const std::vector<double>& advantages, bool ppo, double clip, double entropy_weight) {
  double objective = 0, entropy = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto [log_prob, h] = ref.score(p, outcomes[i].proposal.tokens);
    double a = advantages[i];
    if (ppo) {
      double ratio = std::exp(log_prob - LstmStrategy::sample_log_prob(outcomes[i].proposal.data));
      objective += std::min(ratio * a, std::clamp(ratio, 1 - clip, 1 + clip) * a);
    } else {
      objective += a * log_prob;
    }
    entropy += h;
  }
  double n = static_cast<double>(outcomes.size());
  return -objective / n - entropy_weight * entropy / n;
}

Options tiny(std::string algorithm) {
  return Options()
      .set("embedding", "2")
      .set("hidden", "3")
      .set("groups", "1")
      .set("temperature", "2")
      .set("logit_cap", "2.5")
      .set("init_range", "0.5")
      .set("entropy_weight", "0.01")
      .set("algorithm", algorithm);
}

// Central differences of the reference loss, against the controller's autograd gradient.
void check_gradient(LstmStrategy& s, const Reference& ref, const std::vector<Outcome>& outcomes,
                    const std::vector<double>& advantages, bool ppo) {
  LstmStrategy::LossCheck check = s.loss_gradient(outcomes, advantages);
  Params p = params_of(s.parameters());
  CHECK(check.loss == doctest::Approx(reference_loss(ref, p, outcomes, advantages, ppo, 0.2, 0.01)).epsilon(1e-5));
  int checked = 0, nonzero = 0;
  for (const auto& g : check.gradient) {
    Matrix& m = p[g.name];
    for (std::size_t k = 0; k < m.v.size(); ++k) {
      double keep = m.v[k], step = 1e-5;
      m.v[k] = keep + step;
      double up = reference_loss(ref, p, outcomes, advantages, ppo, 0.2, 0.01);
      m.v[k] = keep - step;
      double down = reference_loss(ref, p, outcomes, advantages, ppo, 0.2, 0.01);
      m.v[k] = keep;
      double numeric = (up - down) / (2 * step);
      INFO(g.name, "[", k, "]");
      REQUIRE(g.values[k] == doctest::Approx(numeric).epsilon(2e-3).scale(1e-4));
      ++checked;
      nonzero += std::abs(numeric) > 1e-6;
    }
  }
  CHECK(checked > 300);
  CHECK(nonzero > 100);
}

std::vector<Outcome> tiny_batch(LstmStrategy& s, const std::vector<double>& log_prob_shift) {
  std::vector<Outcome> outcomes;
  std::vector<Proposal> proposals = s.propose(static_cast<int>(log_prob_shift.size()));
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    double sampled = LstmStrategy::sample_log_prob(proposals[i].data);
    // PPO's stored log-probability: moving it makes the ratio exp(shift) for this sample.
    proposals[i].data = LstmStrategy::sample_data(sampled - log_prob_shift[i]);
    outcomes.push_back({proposals[i], 0.0});
  }
  return outcomes;
}

}  // namespace

TEST_CASE("lstm: heads match dsl::choices for 1 to 4 groups, samples follow the schedule") {
  auto s = make_lstm(Options().set("groups", "1:1,2:2,3:3,4").set("batch", "5").set("hidden", "16").set("embedding", "8"), 1);
  REQUIRE(s->max_groups() == 4);
  for (int t = 0; t < 20; ++t) CHECK(s->head_size(t) == dsl::choices(t / 5, t % 5));
  for (int b = 0; b < 5; ++b)
    for (const Proposal& p : s->propose()) CHECK(p.tokens.size() == static_cast<std::size_t>(std::min(b + 1, 4)));
}

TEST_CASE("lstm: 100,000 samples contain no invalid token and reach every valid one") {
  auto s = make_lstm(Options().set("groups", "4").set("batch", "1000").set("hidden", "16").set("embedding", "8"), 3);
  std::vector<std::set<int>> seen(20);
  int sequences = 0;
  for (int b = 0; b < 100; ++b)
    for (const Proposal& p : s->propose()) {
      REQUIRE(p.tokens.size() == 4);
      for (int t = 0; t < 20; ++t) {
        int id = p.tokens[t / 5][t % 5];
        REQUIRE(id >= 0);
        REQUIRE(id < dsl::choices(t / 5, t % 5));
        seen[t].insert(id);
      }
      ++sequences;
    }
  CHECK(sequences == 100000);
  for (int t = 0; t < 20; ++t) CHECK(static_cast<int>(seen[t].size()) == dsl::choices(t / 5, t % 5));
}

TEST_CASE("lstm: the log-probability and entropy match a hand computation of the recurrence") {
  auto s = make_lstm(tiny("reinforce"), 5);
  Reference ref{1, 2.0, 2.5};
  Params p = params_of(s->parameters());
  for (const Proposal& proposal : s->propose(6)) {
    double expected = ref.score(p, proposal.tokens).first;
    CHECK(LstmStrategy::sample_log_prob(proposal.data) == doctest::Approx(expected).epsilon(1e-5));
    CHECK(s->log_prob(proposal.tokens) == doctest::Approx(expected).epsilon(1e-5));
  }
}

TEST_CASE("lstm: REINFORCE's gradient equals the hand-computed one") {
  auto s = make_lstm(tiny("reinforce"), 6);
  Reference ref{1, 2.0, 2.5};
  std::vector<Outcome> outcomes = tiny_batch(*s, {0, 0, 0, 0});
  check_gradient(*s, ref, outcomes, {0.7, -0.3, 0.2, -0.6}, false);
}

TEST_CASE("lstm: PPO's clipped objective and its gradient equal the hand-computed ones") {
  auto s = make_lstm(tiny("ppo"), 7);
  Reference ref{1, 2.0, 2.5};
  // Ratios exp(0.5) = 1.65 and exp(-0.5) = 0.61 fall outside [0.8, 1.2], exp(0.05) inside; with
  // positive and negative advantages each side of the clip is taken once and left once.
  std::vector<double> shift{0.5, 0.5, -0.5, -0.5, 0.05, -0.05};
  std::vector<Outcome> outcomes = tiny_batch(*s, shift);
  std::vector<double> advantages{0.8, -0.4, 0.5, -0.9, 0.3, -0.2};
  LstmStrategy::LossCheck check = s->loss_gradient(outcomes, advantages);
  // The objective term by term: a clipped term is the constant clip * A, an unclipped one r * A.
  double expected = 0;
  expected += 1.2 * 0.8;               // r = 1.65 > 1.2, A > 0: clipped
  expected += std::exp(0.5) * -0.4;    // r = 1.65, A < 0: the unclipped r A is smaller
  expected += std::exp(-0.5) * 0.5;    // r = 0.61, A > 0: unclipped
  expected += 0.8 * -0.9;              // r = 0.61 < 0.8, A < 0: clipped
  expected += std::exp(0.05) * 0.3 + std::exp(-0.05) * -0.2;
  CHECK(check.objective == doctest::Approx(expected / 6).epsilon(1e-5));
  check_gradient(*s, ref, outcomes, advantages, true);
  // The clipped terms carry no gradient: with only them, the policy gradient is the entropy's alone.
  std::vector<Outcome> clipped{outcomes[0], outcomes[3]};
  auto ent_only = make_lstm(tiny("ppo").set("entropy_weight", "0.01"), 7);
  LstmStrategy::LossCheck with = s->loss_gradient(clipped, std::vector<double>{0.8, -0.9});
  LstmStrategy::LossCheck without = s->loss_gradient(clipped, std::vector<double>{0.0, 0.0});
  for (std::size_t i = 0; i < with.gradient.size(); ++i)
    for (std::size_t k = 0; k < with.gradient[i].values.size(); ++k)
      REQUIRE(with.gradient[i].values[k] == doctest::Approx(without.gradient[i].values[k]).epsilon(1e-6).scale(1e-7));
}

TEST_CASE("lstm: the baseline is an exponential moving average started at the first batch's mean") {
  auto s = make_lstm(Options().set("baseline_decay", "0.9").set("hidden", "8").set("embedding", "4").set("batch", "2"), 8);
  auto observe = [&](double r1, double r2) {
    std::vector<Proposal> p = s->propose();
    std::vector<Outcome> o{{p[0], r1}, {p[1], r2}};
    s->observe(o);
  };
  observe(0.2, 0.4);  // baseline 0.3, then 0.9 * 0.3 + 0.1 * 0.3
  CHECK(s->baseline() == doctest::Approx(0.3));
  observe(0.8, 1.0);  // 0.9 * 0.3 + 0.1 * 0.9
  CHECK(s->baseline() == doctest::Approx(0.36));
  double used = -1;
  for (const Statistic& st : s->statistics())
    if (st.name == "baseline") used = st.value;
  CHECK(used == doctest::Approx(0.3));  // the advantages of batch 2 were taken against 0.3
  auto sq = make_lstm(Options().set("reward", "square").set("hidden", "8").set("embedding", "4").set("batch", "2"), 8);
  std::vector<Proposal> p = sq->propose();
  std::vector<Outcome> o{{p[0], 0.5}, {p[1], 0.5}};
  sq->observe(o);
  CHECK(sq->baseline() == doctest::Approx(0.25));
}

TEST_CASE("lstm: same seed, same proposals, restore mid-run continues bit for bit (PPO and REINFORCE)") {
  for (std::string algorithm : {"ppo", "reinforce"}) {
    CAPTURE(algorithm);
    auto options = Options().set("algorithm", algorithm).set("batch", "8").set("hidden", "32").set("embedding", "16").set("groups", "1:2,2");
    auto make = [&]() -> std::unique_ptr<Strategy> { return make_lstm(options, 21); };
    auto a = make(), b = make();
    auto c = make_lstm(options, 22);
    Reward reward = target_reward(powersign());
    std::string pa = drive(*a, 4, reward);
    CHECK(pa == drive(*b, 4, reward));
    CHECK(pa != drive(*c, 4, reward));
    std::string whole, resumed;
    check_restore_continues(make, 3, 3, reward, whole, resumed);
    CHECK(whole == resumed);
    auto x = make(), y = make();
    drive(*x, 3, reward);
    y->restore(x->save());
    CHECK(x->save() == y->save());
    CHECK(fingerprint(x->best(3)) == fingerprint(y->best(3)));
  }
}

TEST_CASE("lstm: restore refuses foreign and misfitting states, bad options name the option") {
  auto s = make_lstm(Options().set("hidden", "8").set("embedding", "4"), 1);
  auto other = make_lstm(Options().set("hidden", "9").set("embedding", "4"), 1);
  CHECK_THROWS_WITH_AS(other->restore(s->save()), doctest::Contains("hidden=8"), std::invalid_argument);
  std::string bytes = s->save();
  CHECK_THROWS_WITH_AS(s->restore(bytes.substr(0, bytes.size() / 2)), doctest::Contains("truncated"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_lstm(Options().set("algorithm", "a2c"), 1), doctest::Contains("option 'algorithm'"), OptionError);
  CHECK_THROWS_WITH_AS(make_lstm(Options().set("device", "tpu"), 1), doctest::Contains("option 'device'"), OptionError);
  register_lstm_strategy();
  CHECK_THROWS_WITH_AS(make_strategy("lstm", Options().set("hiden", "3"), 1), doctest::Contains("unknown option 'hiden'"), OptionError);
  CHECK(make_strategy("lstm", Options().set("hidden", "4").set("embedding", "2"), 1)->name() == "lstm");
  std::vector<Proposal> p = s->propose(2);
  p[0].data = "not a sample";
  std::vector<Outcome> o{{p[0], 1.0}, {p[1], 0.0}};
  CHECK_THROWS_AS(s->observe(o), std::invalid_argument);
}

TEST_CASE("lstm: greedy decode and beam search give the most likely sequences, best first") {
  auto s = make_lstm(Options().set("hidden", "16").set("embedding", "8").set("groups", "2").set("logit_cap", "0").set("init_range", "0.5"), 4);
  std::vector<Proposal> greedy = s->best(1);
  REQUIRE(greedy.size() == 1);
  CHECK(greedy[0].origin == "greedy decode");
  std::vector<Proposal> top = s->best(5);
  REQUIRE(top.size() == 5);
  std::set<std::string> distinct;
  for (std::size_t i = 0; i < top.size(); ++i) {
    double lp = LstmStrategy::sample_log_prob(top[i].data);
    CHECK(lp == doctest::Approx(s->log_prob(top[i].tokens)).epsilon(1e-5));
    if (i > 0) CHECK(lp <= LstmStrategy::sample_log_prob(top[i - 1].data));
    distinct.insert(print_tokens(top[i].tokens));
  }
  CHECK(distinct.size() == 5);
  CHECK(LstmStrategy::sample_log_prob(top[0].data) >= LstmStrategy::sample_log_prob(greedy[0].data) - 1e-9);
  // No sampled sequence is more likely than the beam's best (sampling is the same distribution).
  for (const Proposal& p : s->propose(200))
    CHECK(LstmStrategy::sample_log_prob(p.data) <= LstmStrategy::sample_log_prob(top[0].data) + 1e-6);
}
