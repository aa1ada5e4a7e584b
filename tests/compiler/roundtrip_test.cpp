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
#include "interpret_testing.h"

using namespace nos;

namespace {

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Runs three steps of `f` on fixed random data; returns the final weights.
std::vector<float> run(const ir::Function& f, std::uint64_t seed) {
  // g[0] = 0 exercises sign(0), log(0), division by ~0.
  return ir::testing::run_three_steps(f, seed, 48, [](std::vector<float>& g, std::uint32_t) { g[0] = 0; });
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
