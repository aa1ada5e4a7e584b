// Hostile sizes through the compiler: a rule whose groups reuse earlier results stays a DAG from
// tokens to IR and back to text (sizes asserted, never times), and every rule at the size limit
// prints from the IR as text that reads back to the same canonical hash.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/parser.h"
#include "dsl/tokens.h"

using namespace nos;
using namespace nos::ir;

namespace {

dsl::TokenSequence tokens_of(const std::string& text) {
  return dsl::parse_tokens(std::make_shared<dsl::Source>(dsl::Source{"<tokens>", text}));
}

// `g m id id add`, then `ok ok id id mul`: written out in full, 2^groups leaves.
std::string squaring_tokens(int groups) {
  std::string text = "g m id id add";
  for (int k = 1; k < groups; ++k) text += " o" + std::to_string(k) + " o" + std::to_string(k) + " id id mul";
  return text;
}

std::uint64_t hash_of(const dsl::Rule& rule) { return canonical_hash(optimize(lower(rule))); }

// What `nosc check` does, then reads its output back: the canonical hash must survive.
void check_round_trip(const dsl::Rule& rule) {
  Function optimized = optimize(lower(rule));
  std::string text = to_text(optimized);
  CAPTURE(text.size());
  dsl::Rule back = dsl::parse_rule(text);
  CHECK(canonical_hash(optimize(lower(back))) == canonical_hash(optimized));
  CHECK(to_text(optimize(lower(back))) == text);
}

}  // namespace

TEST_CASE("sharing: a token rule that reuses results lowers, optimizes and prints in linear size") {
  for (int groups : {25, 256}) {
    CAPTURE(groups);
    dsl::Rule rule = dsl::to_rule(tokens_of(squaring_tokens(groups)));
    Function lowered = lower(rule);
    // g, m (two leaves and a state slot), g + m, then one mul per later group.
    CHECK(lowered.body.size() <= static_cast<std::size_t>(groups + 4));
    Function optimized = optimize(lowered);
    CHECK(optimized.body.size() <= lowered.body.size());
    std::string text = to_text(optimized);
    CHECK(text.size() < static_cast<std::size_t>(24 * groups));  // written out: over 2^groups bytes
    dsl::Rule back = dsl::parse_rule(text);
    CHECK(lower(back).body.size() <= static_cast<std::size_t>(groups + 6));
    CHECK(canonical_hash(optimize(lower(back))) == canonical_hash(optimized));
  }
}

TEST_CASE("sharing: a value the IR uses twice prints once, as a definition") {
  dsl::Rule rule = dsl::parse_rule("x = exp(adam) + g; x * x - x");
  std::string text = to_text(optimize(lower(rule)));
  CHECK(text == "x1 = g + exp(m / sqrt(v)); x1 * x1 - x1");
  CHECK(hash_of(dsl::parse_rule(text)) == hash_of(rule));
}

TEST_CASE("sharing: the longest, deepest token rule round-trips through the IR's text") {
  // Each group adds exp and + above the last result, over adam, whose IR prints 3 levels high.
  std::string text = "adam g exp id add";
  for (int k = 1; k < dsl::kMaxGroups; ++k) text += " o" + std::to_string(k) + " g exp id add";
  check_round_trip(dsl::to_rule(tokens_of(text)));
  // The same depth with the other costly leaves and with each unary token.
  for (const char* leaf : {"rmsprop", "g3", "sign_m", "w4", "eps", "noise"}) {
    CAPTURE(leaf);
    std::string deep = std::string(leaf) + " " + leaf + " sqrt clip4 div";
    for (int k = 1; k < dsl::kMaxGroups; ++k) deep += " o" + std::to_string(k) + " 2 drop3 neg pow";
    check_round_trip(dsl::to_rule(tokens_of(deep)));
  }
  // Random rules of the longest length, which share results at random.
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 20; ++i) check_round_trip(dsl::to_rule(dsl::random_tokens(rng, dsl::kMaxGroups)));
}

TEST_CASE("sharing: text at the height limit prints from the IR within the limit") {
  // Constants folded at the deepest leaf (NaN, inf, -inf, a negative), a negative `with` constant
  // (-2) and a delta of -0 (div(g, m, -0)) print from the IR never higher than written.
  struct Leaf {
    const char* text;
    int height;  // as the parser counts it (dsl/parser.cpp, printed_height)
    const char* with;
  };
  for (const Leaf& leaf : {Leaf{"div(0, 0, 0)", 3, ""}, Leaf{"0 * exp(100)", 3, ""}, Leaf{"exp(100)", 2, ""}, Leaf{"log(0)", 2, ""},
                           Leaf{"(0 - 2)", 2, ""}, Leaf{"1e38 * 10", 2, ""}, Leaf{"a", 2, " with a = -2"}, Leaf{"div(g, m, d)", 3, " with d = -0"},
                           Leaf{"adam", 3, " with adam_eps = 0.5"}}) {
    CAPTURE(leaf.text);
    std::string rule = leaf.text;
    for (int i = 0; i < dsl::kMaxHeight - leaf.height; ++i) rule += " + g";
    check_round_trip(dsl::parse_rule(rule + leaf.with));
    CHECK_THROWS_AS(dsl::parse_rule(rule + " + g" + leaf.with), dsl::Error);  // one level more
  }
}
