// Synthetic rewards for the strategy tests: no child training, a known best sequence.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "controller/strategy.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"

namespace nos::controller::test {

inline dsl::TokenSequence tokens_of(std::string text) {
  return dsl::parse_tokens(std::make_shared<dsl::Source>(dsl::Source{"<test>", std::move(text)}));
}

// PowerSign in the token form: the hidden target of the search tests.
inline const dsl::TokenSequence& powersign() {
  static const dsl::TokenSequence t = tokens_of("sign_g sign_m id id mul o1 g exp id mul");
  return t;
}

// The fraction of positions where `tokens` equals the target, over the longer of the two (so only
// the target itself scores 1).
inline double target_fraction(const dsl::TokenSequence& tokens, const dsl::TokenSequence& target) {
  int same = 0;
  for (std::size_t g = 0; g < tokens.size() && g < target.size(); ++g)
    for (int position = 0; position < 5; ++position) same += tokens[g][position] == target[g][position];
  return static_cast<double>(same) / static_cast<double>(5 * std::max(tokens.size(), target.size()));
}

// 1 for a rule whose text holds sign_g * sign_m (either order), 0.1 otherwise.
inline double sign_product_reward(const dsl::TokenSequence& tokens) {
  std::string text = dsl::print(dsl::to_rule(tokens));
  bool has = text.find("sign_g * sign_m") != std::string::npos || text.find("sign_m * sign_g") != std::string::npos;
  return has ? 1.0 : 0.1;
}

using Reward = std::function<double(const dsl::TokenSequence&)>;

struct Trace {
  std::vector<double> mean;  // mean reward per batch
  std::vector<double> best;  // best reward so far, per batch
  int first_hit = -1;        // first batch with a proposal of reward >= 1
};

// Runs `batches` rounds of propose + observe with the synthetic reward (fewer when
// `stop_at_hit` and a proposal reaches reward 1).
inline Trace run_search(Strategy& strategy, int batches, const Reward& reward, bool stop_at_hit = false) {
  Trace trace;
  double best = -1e300;
  for (int b = 0; b < batches; ++b) {
    std::vector<Proposal> proposals = strategy.propose();
    std::vector<Outcome> outcomes;
    double sum = 0;
    for (Proposal& p : proposals) {
      double r = reward(p.tokens);
      sum += r;
      best = std::max(best, r);
      if (r >= 1.0 && trace.first_hit < 0) trace.first_hit = b;
      outcomes.push_back({std::move(p), r});
    }
    strategy.observe(outcomes);
    trace.mean.push_back(sum / static_cast<double>(outcomes.size()));
    trace.best.push_back(best);
    if (stop_at_hit && trace.first_hit >= 0) break;
  }
  return trace;
}

inline double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double sum = 0;
  for (std::size_t i = from; i < to; ++i) sum += v[i];
  return sum / static_cast<double>(to - from);
}

// Proposals reduced to what must be identical between two runs.
inline std::string fingerprint(const std::vector<Proposal>& proposals) {
  std::string out;
  for (const Proposal& p : proposals)
    out += std::to_string(p.index) + " " + dsl::print_tokens(p.tokens) + " | " + p.origin + " | " +
           std::to_string(p.data.size()) + ":" + p.data + "\n";
  return out;
}

// Proposes and observes `batches` batches, returning what was proposed (for determinism tests).
inline std::string drive(Strategy& strategy, int batches, const Reward& reward) {
  std::string out;
  for (int b = 0; b < batches; ++b) {
    std::vector<Proposal> proposals = strategy.propose();
    out += fingerprint(proposals);
    std::vector<Outcome> outcomes;
    for (Proposal& p : proposals) {
      double r = reward(p.tokens);
      outcomes.push_back({std::move(p), r});
    }
    strategy.observe(outcomes);
  }
  return out;
}

// A strategy's state saved after `before` batches and restored into a fresh strategy must continue
// exactly like the uninterrupted run.
inline void check_restore_continues(const std::function<std::unique_ptr<Strategy>()>& make, int before, int after,
                                    const Reward& reward, std::string& whole, std::string& resumed) {
  auto uninterrupted = make();
  whole = drive(*uninterrupted, before + after, reward);
  auto first = make();
  resumed = drive(*first, before, reward);
  std::string state = first->save();
  first.reset();
  auto second = make();
  second->restore(state);
  resumed += drive(*second, after, reward);
}

}  // namespace nos::controller::test
