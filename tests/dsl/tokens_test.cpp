#include <doctest/doctest.h>

#include <random>
#include <set>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"
#include "dsl_test_util.h"

using namespace nos::dsl;
using nos::dsl::test::sexpr;

namespace {

TokenSequence tokens_of(std::string text) {
  return parse_tokens(std::make_shared<Source>(Source{"<tokens>", std::move(text)}));
}

std::string token_error(std::string text) {
  try {
    tokens_of(std::move(text));
  } catch (const Error& e) {
    return e.diagnostic().render();
  }
  return "";
}

std::string rule_of_tokens(std::string text) { return print(to_rule(tokens_of(std::move(text)))); }

std::optional<std::string> tokens_for(std::string_view text) {
  auto sequence = to_tokens(*parse_rule(text).body);
  if (!sequence) return std::nullopt;
  return print_tokens(*sequence);
}

}  // namespace

TEST_CASE("tokens: PowerSign from DSL.md") {
  TokenSequence t = tokens_of("sign_g sign_m id id mul o1 g exp id mul");
  REQUIRE(t.size() == 2);
  CHECK(print(to_rule(t)) == "exp(sign_g * sign_m) * g");
  CHECK(print_tokens(t) == "sign_g sign_m id id mul o1 g exp id mul");
  CHECK(tokens_for("exp(sign_g * sign_m) * g") == "sign_g sign_m id id mul o1 g exp id mul");
}

TEST_CASE("tokens: groups may be separated by semicolons and line breaks") {
  std::string expected = "sign_g sign_m id id mul o1 g exp id mul";
  CHECK(print_tokens(tokens_of("sign_g sign_m id id mul; o1 g exp id mul;")) == expected);
  CHECK(print_tokens(tokens_of("# powersign\nsign_g sign_m id id mul\n\n  o1 g exp id mul\n")) == expected);
}

TEST_CASE("tokens: to_rule drops id and expands parameterized unaries") {
  CHECK(sexpr(*to_rule(tokens_of("g m clip4 drop3 add")).body) == "(add (clip g 1e-4) (drop m 0.3))");
  CHECK(sexpr(*to_rule(tokens_of("1 2 neg sqrt sub")).body) == "(sub (neg 1) (sqrt 2))");
  CHECK(sexpr(*to_rule(tokens_of("g g id id keep")).body) == "(keep g g)");
  Rule r = to_rule(tokens_of("g m id id div o1 o1 id log pow"), "mine");
  CHECK(r.name == "mine");
  CHECK(print(r) == "mine: (g / m) ^ log(g / m)");
  CHECK(r.body->args[0] == r.body->args[1]->args[0]);  // o1 is one shared node
  // Equal subtrees written twice are one group too, as the printer repeats small shared calls.
  CHECK(tokens_for("(g + m) * (g + m)") == "g m id id add o1 o1 id id mul");
  CHECK(tokens_for("drop(g, 0.3) - drop(g, 0.3)") == "g g drop3 drop3 sub");
  CHECK(to_rule(tokens_of("1 g id id add")).body->args[0]->kind == Expr::Kind::Number);
}

TEST_CASE("tokens: to_tokens of roots that are not binary calls") {
  CHECK(tokens_for("g") == "g g id id keep");
  CHECK(tokens_for("2") == "2 2 id id keep");
  CHECK(tokens_for("exp(g)") == "g g exp id keep");
  CHECK(tokens_for("clip(m, 1e-3)") == "m m clip3 id keep");
  CHECK(tokens_for("-(g * m)") == "g m id id mul o1 o1 neg id keep");
}

TEST_CASE("tokens: nested unaries make an extra group, equal in value") {
  CHECK(tokens_for("exp(exp(g)) * m") == "g g exp id keep o1 m exp id mul");
  CHECK(rule_of_tokens("g g exp id keep o1 m exp id mul") == "exp(keep(exp(g), g)) * m");
}

TEST_CASE("tokens: to_tokens refuses what the token form cannot say") {
  CHECK_FALSE(tokens_for("drop(m, 0.3) * exp(w)"));     // w is text-only
  CHECK_FALSE(tokens_for("g * 3"));                     // only the literals 1 and 2
  CHECK_FALSE(tokens_for("g * a with a = 2"));          // named constants
  CHECK_FALSE(tokens_for("div(g, m, 1e-6)"));           // an explicit delta
  CHECK_FALSE(tokens_for("clip(g, 0.5) + m"));          // no clip token for 0.5
  CHECK_FALSE(tokens_for("id(g) + m"));                 // to_rule would drop the id
  CHECK_FALSE(tokens_for("g * m * v * (id(g) + m)"));   // anywhere in the tree
  CHECK(tokens_for("g * 1 - 2 ^ m") == "g 1 id id mul 2 m id id pow o1 o2 id id sub");
}

TEST_CASE("tokens: choices are the controller's head sizes") {
  const int operands = static_cast<int>(tokens(Slot::Operand).size());
  CHECK(choices(0, 0) == operands);
  CHECK(choices(2, 1) == operands + 2);
  CHECK(choices(1, 2) == static_cast<int>(tokens(Slot::Unary).size()));
  CHECK(choices(1, 3) == static_cast<int>(tokens(Slot::Unary).size()));
  CHECK(choices(5, 4) == static_cast<int>(tokens(Slot::Binary).size()));
  CHECK(spell(2, 0, static_cast<std::uint16_t>(operands + 1)) == "o2");
  CHECK_THROWS_AS(spell(1, 0, static_cast<std::uint16_t>(operands + 1)), std::out_of_range);
  CHECK_THROWS_AS(spell(0, 4, 6), std::out_of_range);
}

TEST_CASE("tokens: random_tokens covers every choice and only valid ones") {
  std::mt19937_64 rng(7);
  std::set<std::uint16_t> seen[5];
  for (int i = 0; i < 2000; ++i) {
    TokenSequence t = random_tokens(rng, 3);
    REQUIRE(t.size() == 3);
    for (int g = 0; g < 3; ++g)
      for (int p = 0; p < 5; ++p) {
        REQUIRE(t[g][p] < choices(g, p));
        if (g == 2) seen[p].insert(t[g][p]);
      }
  }
  for (int p = 0; p < 5; ++p) CHECK(static_cast<int>(seen[p].size()) == choices(2, p));
  std::mt19937_64 a(42), b(42);
  CHECK(print_tokens(random_tokens(a, 4)) == print_tokens(random_tokens(b, 4)));
}

TEST_CASE("errors: token form, unknown or misplaced token") {
  CHECK(token_error("gg sign_m id id mul") ==
        "<tokens>:1:1: error: unknown token 'gg' at op1 of group 1, which must be an operand; did you mean 'g'?\n"
        "  gg sign_m id id mul\n"
        "  ^~\n");
  CHECK(token_error("g m mul id mul") ==
        "<tokens>:1:5: error: 'mul' is a binary token, but u1 of group 1 must be a unary token\n"
        "  g m mul id mul\n"
        "      ^~~\n");
  CHECK(token_error("g m id id mull").starts_with(
      "<tokens>:1:11: error: unknown token 'mull' at b of group 1, which must be a binary token; did you mean 'mul'?"));
  CHECK(token_error("g w id id mul").starts_with("<tokens>:1:3: error: unknown token 'w' at op2 of group 1"));
  CHECK(token_error("g 3 id id mul").starts_with("<tokens>:1:3: error: unknown token '3'"));
  CHECK(token_error("g m ( id mul").starts_with("<tokens>:1:5: error: unexpected '(' in the token form"));
}

TEST_CASE("errors: token form, short groups") {
  CHECK(token_error("sign_g sign_m id id mul; o1 g exp") ==
        "<tokens>:1:26: error: group 2 has 3 tokens, expected 5: op1 op2 u1 u2 b\n"
        "  sign_g sign_m id id mul; o1 g exp\n"
        "                           ^~~~~~~~\n");
  CHECK(token_error("sign_g sign_m id mul\no1 g exp id mul").starts_with(
      "<tokens>:1:1: error: group 1 has 4 tokens, expected 5"));
  CHECK(token_error("g m id id mul g; m id id mul").starts_with("<tokens>:1:15: error: group 2 has 1 token,"));
  CHECK(token_error("  # nothing\n").starts_with("<tokens>:2:1: error: empty token sequence"));
}

TEST_CASE("errors: token form, results of later groups") {
  CHECK(token_error("g m id id mul o3 g id id add") ==
        "<tokens>:1:15: error: 'o3' is not the result of an earlier group (group 2 can use o1)\n"
        "  g m id id mul o3 g id id add\n"
        "                ^~\n");
  CHECK(token_error("o1 g id id add").starts_with("<tokens>:1:1: error: 'o1' is not the result of an earlier group (group 1 has none)"));
  CHECK(token_error("g g id id add g g id id add g o3 id id add").find("(group 3 can use o1 to o2)") != std::string::npos);
  CHECK(token_error("g g id id add o99999999999 g id id add").find("is not the result of an earlier group") != std::string::npos);
  CHECK(token_error("g g id id add o01 g id id add").find("unknown token 'o01'") != std::string::npos);
}
