#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "controller/lstm/lstm_strategy.h"
#include "synthetic.h"

using namespace nos::controller;
using namespace nos::controller::test;

namespace {

// 80 batches of 20 on the reward "fraction of PowerSign's 10 tokens matched": the controller must
// raise the target's probability by orders of magnitude and write nearly it when decoding greedily.
void check_learns(Options options, const char* label) {
  LstmStrategy s(LstmStrategy::parse(options), 11);
  double before = s.log_prob(powersign());
  Trace trace = run_search(s, 80, [](const nos::dsl::TokenSequence& t) { return target_fraction(t, powersign()); });
  double after = s.log_prob(powersign());
  double first = trace.mean[0], last = mean_of(trace.mean, 70, 80);
  nos::dsl::TokenSequence greedy = s.best(1)[0].tokens;
  std::printf("lstm %s, PowerSign target, 80 batches of 20: mean reward %.3f (batch 1) -> %.3f (last 10), "
              "p(target) %.3g -> %.3g, greedy %s (%.0f%% of the target)\n",
              label, first, last, std::exp(before), std::exp(after), print_tokens(greedy).c_str(),
              100 * target_fraction(greedy, powersign()));
  CHECK(first < 0.15);
  CHECK(last > 0.6);
  CHECK(after - before > std::log(1e4));
  CHECK(target_fraction(greedy, powersign()) >= 0.7);
}

}  // namespace

TEST_CASE("lstm learning: PPO with the default options") { check_learns(Options(), "ppo"); }

TEST_CASE("lstm learning: REINFORCE") {
  check_learns(Options().set("algorithm", "reinforce").set("learning_rate", "0.005"), "reinforce");
}
