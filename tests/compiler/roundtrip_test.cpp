// The round trip over the controller's own rule generator: tokens -> IR -> text -> IR keeps
// the canonical hash, and optimization never changes what the interpreter computes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "compiler/interpreter.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/parser.h"
#include "dsl/tokens.h"

using namespace nos;

namespace {

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Runs three steps of `f` on fixed random data; returns the final weights.
std::vector<float> run(const ir::Function& f, std::uint64_t seed) {
  constexpr std::size_t n = 48;
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(n, 0));
  std::vector<float*> ptrs;
  for (auto& s : states) ptrs.push_back(s.data());
  for (std::uint32_t t = 1; t <= 3; ++t) {
    std::vector<float> g(n);
    for (float& x : g) x = normal(rng) * 0.1f;
    g[0] = 0;  // exercise sign(0), log(0), division by ~0
    ir::interpret_step(f, {t, 10, 0.01f, seed, 3}, w.data(), g.data(), ptrs, n);
  }
  return w;
}

}  // namespace

TEST_CASE("roundtrip: 10,000 random token rules keep their hash through text, and their values through optimization") {
  std::mt19937_64 rng(2024);
  int checked = 0;
  for (int i = 0; i < 10000; ++i) {
    int groups = 1 + i % 3;
    dsl::TokenSequence tokens = dsl::random_tokens(rng, groups);
    dsl::Rule rule = dsl::to_rule(tokens);
    ir::Function lowered = ir::lower(rule);
    ir::Function optimized = ir::optimize(lowered);
    std::string text = ir::to_text(optimized);
    INFO("tokens: " << dsl::print_tokens(tokens));
    INFO("text:   " << text);
    ir::Function reparsed = ir::optimize(ir::lower(dsl::parse_rule(text)));
    REQUIRE(ir::canonical_hash(reparsed) == ir::canonical_hash(optimized));

    std::vector<float> before = run(lowered, i), after = run(optimized, i);
    for (std::size_t k = 0; k < before.size(); ++k) {
      INFO("element " << k << ": " << before[k] << " vs " << after[k]);
      REQUIRE(same(before[k], after[k]));
    }
    ++checked;
  }
  CHECK(checked == 10000);
}
