// Property tests over random token sequences: the token form, the tree and the text form must
// convert into one another without losing anything.
#include <doctest/doctest.h>

#include <random>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"

using namespace nos::dsl;

namespace {

constexpr int kSequences = 10000;

TokenSequence random_sequence(std::mt19937_64& rng) {
  int groups = std::uniform_int_distribution<int>(1, 3)(rng);
  return random_tokens(rng, groups);
}

}  // namespace

TEST_CASE("printer: print then parse gives the same tree for random token rules") {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < kSequences; ++i) {
    TokenSequence t = random_sequence(rng);
    Rule rule = to_rule(t);
    std::string text = print(rule);
    CAPTURE(print_tokens(t));
    CAPTURE(text);
    Rule parsed = parse_rule(text);
    REQUIRE(equal(*parsed.body, *rule.body));
    REQUIRE(equal(parsed, rule));
    REQUIRE(print(parsed) == text);
  }
}

TEST_CASE("tokens: to_tokens inverts to_rule on random token rules") {
  std::mt19937_64 rng(77);
  for (int i = 0; i < kSequences; ++i) {
    TokenSequence t = random_sequence(rng);
    Rule rule = to_rule(t);
    CAPTURE(print_tokens(t));
    std::optional<TokenSequence> back = to_tokens(*rule.body);
    REQUIRE(back.has_value());
    CAPTURE(print_tokens(*back));
    REQUIRE(back->size() <= t.size());  // unused groups vanish, shared ones stay shared
    REQUIRE(equal(*to_rule(*back).body, *rule.body));
    // The text form of the same rule gives the same tokens: the tree, not its sharing, decides.
    std::optional<TokenSequence> from_text = to_tokens(*parse_rule(print(rule)).body);
    REQUIRE(from_text.has_value());
    REQUIRE(equal(*to_rule(*from_text).body, *rule.body));
  }
}

TEST_CASE("tokens: print_tokens then parse_tokens is the identity") {
  std::mt19937_64 rng(5);
  for (int i = 0; i < kSequences; ++i) {
    TokenSequence t = random_tokens(rng, std::uniform_int_distribution<int>(1, 6)(rng));
    std::string text = print_tokens(t);
    CAPTURE(text);
    TokenSequence back = parse_tokens(std::make_shared<Source>(Source{"<tokens>", text}));
    REQUIRE(back.size() == t.size());
    for (std::size_t g = 0; g < t.size(); ++g)
      for (int p = 0; p < 5; ++p) REQUIRE(back[g][p] == t[g][p]);
  }
}
