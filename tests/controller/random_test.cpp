#include <doctest/doctest.h>

#include <cstdio>

#include "controller/strategies/random.h"
#include "synthetic.h"

using namespace nos::controller;
using namespace nos::controller::test;

namespace {

std::unique_ptr<Strategy> make_random(std::uint64_t seed, std::string groups = "2") {
  return make_strategy("random", Options().set("groups", groups), seed);
}

Reward target_reward() {
  return [](const nos::dsl::TokenSequence& t) { return target_fraction(t, powersign()); };
}

}  // namespace

TEST_CASE("random: same seed, same proposals, another seed, others") {
  auto a = make_random(7), b = make_random(7), c = make_random(8);
  std::string pa = drive(*a, 3, target_reward()), pb = drive(*b, 3, target_reward()), pc = drive(*c, 3, target_reward());
  CHECK(pa == pb);
  CHECK(pa != pc);
}

TEST_CASE("random: restore mid-run continues identically") {
  std::string whole, resumed;
  check_restore_continues([] { return make_random(11); }, 4, 5, target_reward(), whole, resumed);
  CHECK(whole == resumed);
}

TEST_CASE("random: follows the group schedule per batch") {
  auto s = make_strategy("random", Options().set("groups", "1:2,3").set("batch", "4"), 3);
  for (int b = 0; b < 4; ++b)
    for (const Proposal& p : s->propose()) CHECK(p.tokens.size() == (b < 2 ? 1u : 3u));
}

TEST_CASE("random: the control does not improve on a synthetic reward") {
  auto s = make_random(5);
  Trace trace = run_search(*s, 100, target_reward());
  double first = mean_of(trace.mean, 0, 20), last = mean_of(trace.mean, 80, 100);
  std::printf("random, fraction of PowerSign's tokens: first 20 batches %.4f, last 20 %.4f\n", first, last);
  CHECK(std::abs(last - first) < 0.02);
  CHECK(first < 0.15);  // uniform tokens match about 1/10 of the positions
  CHECK(s->best(3).empty());
}
