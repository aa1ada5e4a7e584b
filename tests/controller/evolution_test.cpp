#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "controller/strategies/evolution.h"
#include "synthetic.h"

using namespace nos::controller;
using namespace nos::controller::test;
namespace dsl = nos::dsl;

namespace {

Reward target_reward() {
  return [](const dsl::TokenSequence& t) { return target_fraction(t, powersign()); };
}

Options small_population() { return Options().set("population", "50").set("tournament", "10"); }

void check_valid(const dsl::TokenSequence& t) {
  REQUIRE(!t.empty());
  for (std::size_t g = 0; g < t.size(); ++g)
    for (int position = 0; position < 5; ++position)
      REQUIRE(t[g][position] < dsl::choices(static_cast<int>(g), position));
}

}  // namespace

TEST_CASE("evolution: mutations stay valid and are the three documented kinds") {
  EvolutionStrategy::Config config;
  config.max_groups = 4;
  config.add_group = 0.2;
  config.remove_group = 0.2;
  Rng rng(3);
  int resample = 0, add = 0, remove = 0;
  dsl::TokenSequence t = powersign();
  for (int i = 0; i < 20000; ++i) {
    std::string what;
    dsl::TokenSequence child = EvolutionStrategy::mutate(t, config, rng, what);
    check_valid(child);
    REQUIRE(child.size() <= 4);
    if (what.starts_with("resample")) {
      ++resample;
      int differ = 0;
      for (std::size_t g = 0; g < t.size(); ++g)
        for (int position = 0; position < 5; ++position) differ += child[g][position] != t[g][position];
      REQUIRE(differ == 1);  // exactly one token, never resampled to itself
    } else if (what.starts_with("add")) {
      ++add;
      REQUIRE(child.size() == t.size() + 1);
      REQUIRE(child.back().op1 == dsl::choices(0, 0) + t.size() - 1);  // takes the old result
    } else {
      REQUIRE(what.starts_with("remove"));
      ++remove;
      REQUIRE(child.size() == t.size() - 1);
    }
    t = child;
  }
  CHECK(resample > 10000);
  CHECK(add > 2000);
  CHECK(remove > 2000);
}

TEST_CASE("evolution: removing a group rewires the references to it") {
  EvolutionStrategy::Config config;
  config.add_group = 0;
  config.remove_group = 1;
  // o1 = sign_g*sign_m; o2 = exp(o1)*g; o3 = o2 + o1. Removing group 1 makes o1's users read sign_g.
  dsl::TokenSequence t = tokens_of("sign_g sign_m id id mul o1 g exp id mul o2 o1 id id add");
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    std::string what;
    dsl::TokenSequence child = EvolutionStrategy::mutate(t, config, rng, what);
    if (what == "remove group 1") CHECK(print_tokens(child) == "sign_g g exp id mul o1 sign_g id id add");
    if (what == "remove group 2") CHECK(print_tokens(child) == "sign_g sign_m id id mul o1 o1 id id add");
    if (what == "remove group 3") CHECK(print_tokens(child) == "sign_g sign_m id id mul o1 g exp id mul");
  }
}

TEST_CASE("evolution: finds a hidden 2-group target, random does not at the same budget") {
  auto s = make_strategy("evolution", small_population(), 1);
  Trace whole = run_search(*s, 150, target_reward());
  auto r = make_strategy("random", Options(), 1);
  Trace control = run_search(*r, 150, target_reward());
  double first = mean_of(whole.mean, 0, 2), last = mean_of(whole.mean, 130, 150);
  std::printf("evolution, PowerSign target: found in batch %d (20 per batch); mean reward of the first 2 batches (random founders) %.3f, "
              "last 20 %.3f; best random in 150 batches %.2f\n",
              whole.first_hit, first, last, control.best.back());
  CHECK(whole.first_hit >= 0);
  CHECK(whole.first_hit < 60);
  CHECK(first < 0.15);
  CHECK(last > 0.5);
  CHECK(control.best.back() <= 0.7);
  // The member that hits the target is the strategy's best right after it is observed (aging
  // evolution lets it die P observations later; its offspring stay near it).
  auto again = make_strategy("evolution", small_population(), 1);
  Trace until = run_search(*again, 150, target_reward(), true);
  CHECK(until.first_hit == whole.first_hit);
  REQUIRE(!again->best(1).empty());
  CHECK(print_tokens(again->best(1)[0].tokens) == print_tokens(powersign()));
}

TEST_CASE("evolution: same seed, same proposals, restore mid-run continues identically") {
  auto make = [] { return make_strategy("evolution", small_population(), 9); };
  auto a = make(), b = make();
  CHECK(drive(*a, 6, target_reward()) == drive(*b, 6, target_reward()));
  std::string whole, resumed;
  check_restore_continues(make, 4, 4, target_reward(), whole, resumed);  // across the founder phase
  CHECK(whole == resumed);
  check_restore_continues(make, 7, 4, target_reward(), whole, resumed);
  CHECK(whole == resumed);
  auto other = make_strategy("evolution", Options().set("population", "40"), 9);
  CHECK_THROWS_WITH_AS(other->restore(make()->save()), doctest::Contains("population=50"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(other->restore(make_strategy("random", Options(), 1)->save()),
                       doctest::Contains("belongs to strategy 'random'"), std::invalid_argument);
}

TEST_CASE("evolution: aging keeps the newest P members and children name their parent") {
  auto s = make_strategy("evolution", Options().set("population", "30").set("tournament", "5").set("batch", "10"), 2);
  run_search(*s, 10, target_reward());
  auto& evo = dynamic_cast<EvolutionStrategy&>(*s);
  REQUIRE(evo.population().size() == 30);
  CHECK(evo.population().front().proposal.index == 70);  // 100 observed, the 30 newest stay
  std::vector<Proposal> children = s->propose();
  for (const Proposal& c : children) {
    CHECK(c.parent >= 70);
    CHECK(c.origin.starts_with("mutation of #" + std::to_string(c.parent) + ": "));
  }
}

TEST_CASE("evolution: warm start from DSL text and tokens, skipping what the token form cannot say") {
  std::string dir = NOS_SOURCE_DIR "/examples/";
  auto s = make_strategy("evolution", Options().set("warm_start", dir + "powersign.dsl," + dir + "paper.dsl"), 4);
  std::vector<Proposal> first = s->propose();
  CHECK(first[0].origin == "warm start: " + dir + "powersign.dsl:powersign");
  CHECK(print(to_rule(first[0].tokens)) == "exp(sign(g) * sign(m)) * g");
  for (const Proposal& p : first)
    CHECK(p.origin.find("drop_weight") == std::string::npos);  // uses w: text form only
  int warm = 0;
  for (const Proposal& p : first) warm += p.origin.starts_with("warm start");
  CHECK(warm >= 8);
  CHECK(first.back().origin == "random");
  CHECK_THROWS_AS(make_strategy("evolution", Options().set("warm_start", dir + "missing.dsl"), 1), nos::dsl::Error);
}

TEST_CASE("evolution: a .tokens warm-start file holds one token sequence") {
  std::string path = NOS_BINARY_DIR "/tests/controller_warm_start.tokens";
  {
    std::ofstream file(path);
    file << "# PowerSign\nsign_g sign_m id id mul\no1 g exp id mul\n";
  }
  auto s = make_strategy("evolution", Options().set("warm_start", path), 4);
  std::vector<Proposal> first = s->propose(2);
  CHECK(first[0].origin == "warm start: " + path);
  CHECK(print_tokens(first[0].tokens) == print_tokens(powersign()));
  CHECK(first[1].origin == "random");
  {
    std::ofstream file(path);
    file << "sign_g sign_m id id\n";  // a short group
  }
  CHECK_THROWS_WITH_AS(make_strategy("evolution", Options().set("warm_start", path), 4),
                       doctest::Contains("group 1 has 4 tokens"), nos::dsl::Error);
  std::filesystem::remove(path);
}
