// Named sub-expressions (`x = g * m; x + x`): what they mean, how they print, and their errors.
#include <doctest/doctest.h>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl_test_util.h"

using namespace nos::dsl;
using nos::dsl::test::canonical;
using nos::dsl::test::error_of;
using nos::dsl::test::message_of;
using nos::dsl::test::tree;

TEST_CASE("definitions: a name stands for its expression, and its uses share one node") {
  CHECK(tree("x = g * m; x + exp(x)") == "(add (mul g m) (exp (mul g m)))");
  Rule r = parse_rule("x = g * m; x + exp(x)");
  CHECK(r.body->args[0] == r.body->args[1]->args[0]);
  CHECK(tree("a = g + 1; b = a * a; b - a") == "(sub (mul (add g 1) (add g 1)) (add g 1))");
  // A name is an atom: no parentheses are needed around its use, whatever its expression.
  CHECK(tree("x = g + m; x * 2") == "(mul (add g m) 2)");
  CHECK(tree("x = g + m; -x ^ 2") == "(neg (pow (add g m) 2))");
  // Definitions may use `with` constants and settings; named rules and modules hold them too.
  CHECK(tree("x = g * a; x + x with a = 2") == "(add (mul g $a) (mul g $a))");
  Module m = parse_module(std::make_shared<Source>(Source{"m.dsl", "r1: x = g * m; x * x\nr2: x = v; x; y"}));
  REQUIRE(m.rules.size() == 3);
  CHECK(nos::dsl::test::sexpr(*m.rules[1].body) == "v");
  CHECK(nos::dsl::test::sexpr(*m.rules[2].body) == "y");
}

TEST_CASE("definitions: the printer names shared nodes, except calls of leaves") {
  CHECK(canonical("x = g * m; x + x") == "g * m + g * m");  // small: repeated, not named
  CHECK(canonical("x = exp(g * m); x + x") == "x1 = exp(g * m); x1 + x1");
  CHECK(canonical("x = exp(g * m); z = x * x; z - x") == "x1 = exp(g * m); x1 * x1 - x1");
  CHECK(canonical("a = exp(g) + m; b = a * a; b / b") == "x1 = exp(g) + m; x2 = x1 * x1; x2 / x2");
  // A used-once definition is inlined; the names are the printer's, not the writer's.
  CHECK(canonical("mom = exp(m) * g; mom + v") == "exp(m) * g + v");
  // Names already bound by `with` are skipped.
  CHECK(canonical("x = exp(g) * x1; x + x with x1 = 2") == "x2 = exp(g) * x1; x2 + x2 with x1 = 2");
  CHECK(canonical("r: x = log(g) - m; x * x with beta1 = 0.5") == "r: x1 = log(g) - m; x1 * x1 with beta1 = 0.5");
  for (const char* text : {"x = exp(g * m); x + x", "a = exp(g) + m; b = a * a; b / b",
                           "x = exp(g) * x1; x + x with x1 = 2", "x = clip(g, 1e-4) + drop(m, 0.5); x ^ x"}) {
    CAPTURE(text);
    Rule once = parse_rule(text);
    Rule back = parse_rule(print(once));
    CHECK(equal(once, back));
    CHECK(print(back) == print(once));
  }
}

TEST_CASE("errors: definitions") {
  CHECK(error_of("x = g * m; g") ==
        "<expr>:1:1: error: 'x' is defined but the rule does not use it\n"
        "  x = g * m; g\n"
        "  ^\n");
  CHECK(error_of("x = b + g; b = m; x + b") ==
        "<expr>:1:5: error: 'b' is used before its definition (at line 1, column 12)\n"
        "  x = b + g; b = m; x + b\n"
        "      ^\n");
  CHECK(message_of("x = g; x = m; x") == "duplicate definition 'x' (first defined at line 1, column 1)");
  CHECK(message_of("g = m; g") == "'g' is an operand; a definition cannot shadow it");
  CHECK(message_of("exp = m; g") == "'exp' is a function; a definition cannot shadow it");
  CHECK(message_of("beta1 = m; g") == "'beta1' is a setting; a definition cannot shadow it");
  CHECK(message_of("with = m; g") == "'with' is a keyword and cannot be defined");
  CHECK(message_of("x = g; x(m)") == "'x' is a named sub-expression, not a function");
  CHECK(message_of("x = g; x * a with x = 2, a = 1") ==
        "'x' is a named sub-expression (defined at line 1, column 1); a `with` name cannot shadow it");
  CHECK(error_of("x = g * m") ==
        "<expr>:1:10: error: expected an operator or ';' after the definition of 'x', but the rule ends here\n"
        "  x = g * m\n"
        "           ^\n");
  CHECK(message_of("x = g * m;") == "the rule ends after the definition of 'x': expected the rule's expression");
  CHECK(message_of("x = g m; x") == "expected an operator or ';' after the definition of 'x', found 'm'");
  CHECK(message_of("x = ; g") == "expected an operand after '=', found ';'");
  CHECK(message_of("x = g with a = 1; x") == "expected an operator or ';' after the definition of 'x', found 'with'");
  // A name is local to its rule.
  CHECK(parse_module(std::make_shared<Source>(Source{"m.dsl", "a: x = exp(g); x * x\nb: x = m; x"})).rules.size() == 2);
  try {
    parse_module(std::make_shared<Source>(Source{"m.dsl", "a: x = exp(g); x * x\nb: x + g"}));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.diagnostic().render() == "m.dsl:2:4: error: unknown name 'x'; did you mean 'g'?\n  b: x + g\n     ^\n");
  }
}
