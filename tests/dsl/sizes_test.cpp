// Hostile sizes: costs that must stay linear in the input, asserted on sizes and counts (never on
// time), and the one size limit (kMaxGroups, kMaxHeight) round-tripping at the limit.
#include <doctest/doctest.h>

#include <string>
#include <unordered_set>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"

using namespace nos::dsl;

namespace {

TokenSequence tokens_of(const std::string& text) {
  return parse_tokens(std::make_shared<Source>(Source{"<tokens>", text}));
}

// `g m id id add`, then `ok ok id id mul` for k = 1 .. groups-1: every group squares the last, so
// the tree written out in full has 2^groups leaves.
std::string squaring_tokens(int groups) {
  std::string text = "g m id id add";
  for (int k = 1; k < groups; ++k) text += " o" + std::to_string(k) + " o" + std::to_string(k) + " id id mul";
  return text;
}

// Nodes of the DAG, each counted once.
std::size_t distinct_nodes(const Expr& root) {
  std::unordered_set<const Expr*> seen;
  std::vector<const Expr*> stack{&root};
  while (!stack.empty()) {
    const Expr* e = stack.back();
    stack.pop_back();
    if (!seen.insert(e).second) continue;
    for (const ExprPtr& arg : e->args) stack.push_back(arg.get());
  }
  return seen.size();
}

std::string module_of(int rules) {
  std::string text;
  for (int i = 0; i < rules; ++i) text += "r" + std::to_string(i) + ": g * " + std::to_string(i % 7 + 1) + " + m\n";
  return text;
}

}  // namespace

TEST_CASE("sizes: a token rule that reuses results stays linear from tokens to text and back") {
  for (int groups : {25, 256}) {
    CAPTURE(groups);
    Rule rule = to_rule(tokens_of(squaring_tokens(groups)));
    // g, m, g + m, then one mul per later group: a DAG, not 2^groups nodes.
    CHECK(distinct_nodes(*rule.body) == static_cast<std::size_t>(groups + 2));
    std::string text = print(rule);
    // One short definition per group (x12 = x11 * x11; is 20 bytes); written out it would be
    // over 2^groups bytes.
    CHECK(text.size() < static_cast<std::size_t>(24 * groups));
    CHECK(text.starts_with("x1 = (g + m) * (g + m); x2 = x1 * x1; "));
    Rule back = parse_rule(text);
    CHECK(distinct_nodes(*back.body) <= static_cast<std::size_t>(2 * groups + 2));
    CHECK(equal(back, rule));
    CHECK(print(back) == text);
    std::optional<TokenSequence> tokens = to_tokens(*back.body);
    REQUIRE(tokens.has_value());
    CHECK(tokens->size() <= static_cast<std::size_t>(groups + 1));
    CHECK(equal(*to_rule(*tokens).body, *rule.body));
  }
}

TEST_CASE("sizes: checking n named rules compares O(n) names, not O(n^2)") {
  auto comparisons = [](int rules) {
    ParseStats stats;
    Module m = parse_module(std::make_shared<Source>(Source{"many.dsl", module_of(rules)}), &stats);
    REQUIRE(m.rules.size() == static_cast<std::size_t>(rules));
    return stats.name_comparisons;
  };
  std::size_t small = comparisons(4096), large = comparisons(8192);
  CAPTURE(small);
  CAPTURE(large);
  // The earlier pairwise check made n(n-1)/2 comparisons: 8.4 and 33.5 million here.
  CHECK(large <= 2 * 8192);
  CHECK(large <= 2 * small + 64);
  // The duplicate is still found, and named with its first definition.
  try {
    parse_module(std::make_shared<Source>(Source{"many.dsl", module_of(4096) + "r17: v\n"}));
    FAIL("expected a duplicate rule name");
  } catch (const Error& e) {
    CHECK(e.diagnostic().message == "duplicate rule name 'r17' (first defined at line 18, column 1)");
    CHECK(e.diagnostic().range.line == 4097);
  }
}

TEST_CASE("sizes: a rule with n `with` constants and n definitions compares O(n) names") {
  // A balanced sum (height log n) of clip(g, a_k) over definitions x_k: every name is looked up
  // in the binding, definition and domain tables, once per use.
  auto comparisons = [](int n) {
    std::string definitions, terms, bindings;
    for (int k = 0; k < n; ++k) {
      definitions += "x" + std::to_string(k) + " = clip(g, a" + std::to_string(k) + "); ";
      terms += (k ? " + " : "") + std::string("x") + std::to_string(k);
      bindings += (k ? ", a" : "a") + std::to_string(k) + " = " + std::to_string(k % 9 + 1);
    }
    // The sum written flat would be n levels high; nest it as a balanced tree instead.
    std::vector<std::string> level;
    for (int k = 0; k < n; ++k) level.push_back("x" + std::to_string(k));
    while (level.size() > 1) {
      std::vector<std::string> next;
      for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back("(" + level[i] + " + " + level[i + 1] + ")");
      if (level.size() % 2) next.push_back(level.back());
      level = std::move(next);
    }
    ParseStats stats;
    Module m = parse_module(std::make_shared<Source>(Source{"wide.dsl", definitions + level[0] + " with " + bindings}),
                            &stats);
    REQUIRE(m.rules.front().bindings.size() == static_cast<std::size_t>(n));
    return stats.name_comparisons;
  };
  std::size_t small = comparisons(2048), large = comparisons(4096);
  CAPTURE(small);
  CAPTURE(large);
  CHECK(large <= 8 * 4096);
  CHECK(large <= 2 * small + 64);
}

TEST_CASE("sizes: the longest token rule prints as text that reads back, one group more is refused") {
  // Every group adds a unary and a binary call above the last result: the deepest tree possible,
  // with the deepest leaf (adam prints back from the IR as m / sqrt(v)).
  std::string text = "adam g exp id add";
  for (int k = 1; k < kMaxGroups; ++k) text += " o" + std::to_string(k) + " g exp id add";
  TokenSequence longest = tokens_of(text);
  REQUIRE(longest.size() == static_cast<std::size_t>(kMaxGroups));
  Rule rule = to_rule(longest);
  Rule back = parse_rule(print(rule));
  CHECK(equal(back, rule));
  CHECK(to_tokens(*back.body).has_value());

  std::string one_more = text + " o" + std::to_string(kMaxGroups) + " g exp id add";
  try {
    tokens_of(one_more);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.diagnostic().message == "group 257 is one too many: a token rule has at most 256 groups");
    CHECK(e.diagnostic().range.offset == text.size() + 1);
  }
  // Text one level deeper than the token form can write is refused with a located error.
  try {
    parse_rule("exp(" + print(rule) + ")");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.diagnostic().message == "expression nested too deeply");
  }
  CHECK_THROWS_AS(to_rule(TokenSequence(kMaxGroups + 1)), std::invalid_argument);
  std::mt19937_64 rng(1);
  CHECK(random_tokens(rng, kMaxGroups).size() == static_cast<std::size_t>(kMaxGroups));
  CHECK_THROWS_AS(random_tokens(rng, kMaxGroups + 1), std::invalid_argument);
}

TEST_CASE("sizes: an expression needing more than kMaxGroups groups does not fit the token form") {
  std::string text = "g";
  for (int k = 0; k < kMaxGroups; ++k) text += " + g";  // one group per addition
  CHECK(to_tokens(*parse_rule(text).body)->size() == static_cast<std::size_t>(kMaxGroups));
  CHECK_FALSE(to_tokens(*parse_rule(text + " + g").body).has_value());
}
