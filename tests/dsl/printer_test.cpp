#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl_test_util.h"

using namespace nos::dsl;
using nos::dsl::test::canonical;

TEST_CASE("printer: minimal parentheses for + - * /") {
  CHECK(canonical("(g - m) - v") == "g - m - v");
  CHECK(canonical("g - (m - v)") == "g - (m - v)");
  CHECK(canonical("g + (m + v)") == "g + (m + v)");  // the tree is kept, not re-associated
  CHECK(canonical("(g * m) + v") == "g * m + v");
  CHECK(canonical("g * (m + v)") == "g * (m + v)");
  CHECK(canonical("g / (m * v)") == "g / (m * v)");
  CHECK(canonical("((g))") == "g");
}

TEST_CASE("printer: unary minus and ^") {
  CHECK(canonical("-(g^2)") == "-g ^ 2");
  CHECK(canonical("(-g)^2") == "(-g) ^ 2");
  CHECK(canonical("2^(3^2)") == "2 ^ 3 ^ 2");
  CHECK(canonical("(2^3)^2") == "(2 ^ 3) ^ 2");
  CHECK(canonical("2^(-1)") == "2 ^ -1");
  CHECK(canonical("g^(m*v)") == "g ^ (m * v)");
  CHECK(canonical("-(g*m)") == "-(g * m)");
  CHECK(canonical("-(-g)") == "- -g");
  CHECK(canonical("g - (-m)") == "g - -m");
  CHECK(canonical("(-g) * m") == "-g * m");
  CHECK(canonical("neg(g)") == "-g");
}

TEST_CASE("printer: calls and infix functions") {
  CHECK(canonical("add(g, mul(m, v))") == "g + m * v");
  CHECK(canonical("pow(g, 2)") == "g ^ 2");
  CHECK(canonical("keep(g,m)") == "keep(g, m)");
  CHECK(canonical("clip(g,1e-4)") == "clip(g, 1e-4)");
  CHECK(canonical("div(g, v, 1e-8)") == "div(g, v, 1e-8)");
  CHECK(canonical("exp(sign(g)*sign(m))*g") == "exp(sign(g) * sign(m)) * g");
}

TEST_CASE("printer: numbers are shortest round-trip and always lex back") {
  CHECK(format_number(1e-8f) == "1e-8");
  CHECK(format_number(1e-4f) == "1e-4");
  CHECK(format_number(0.3f) == "0.3");
  CHECK(format_number(100.0f) == "100");
  CHECK(format_number(1e20f) == "1e20");
  CHECK(format_number(0.0f) == "0");
  CHECK(format_number(-0.0f) == "-0");
  CHECK(format_number(-2.5f) == "-2.5");
  CHECK(format_number(std::numeric_limits<float>::infinity()) == "inf");
  CHECK(format_number(std::nanf("")) == "nan");
  for (float x : {1e-45f, 1.17549435e-38f, 3.4028235e38f, 0.1f, 1.0f / 3.0f, 123456789.0f, 16777217.0f}) {
    CAPTURE(x);
    Rule r = parse_rule(format_number(x));
    REQUIRE(r.body->kind == Expr::Kind::Number);
    CHECK(same_float(r.body->number, x));
  }
  CHECK(canonical(".5 + 5. + 0.0001") == "0.5 + 5 + 1e-4");
}

TEST_CASE("printer: negative literals print as negation") {
  // A negative Number (from constant folding) has no literal spelling: it parses back as neg(1).
  ExprPtr minus_one = Expr::make_number(-1.0f);
  CHECK(print(*Expr::make_call(Fn::Pow, {minus_one, Expr::make_operand(find_operand("g"))})) == "(-1) ^ g");
  CHECK(print(*Expr::make_call(Fn::Sub, {Expr::make_operand(find_operand("g")), minus_one})) == "g - -1");
  CHECK(nos::dsl::test::tree("(-1) ^ g") == "(pow (neg 1) g)");
}

TEST_CASE("printer: rules with names, constants and settings") {
  CHECK(canonical("adam: adam") == "adam: adam");
  CHECK(canonical("rmsprop with beta2 = 0.99, bias_correction = off") ==
        "rmsprop with beta2 = 0.99, bias_correction = off");
  CHECK(canonical("alpha ^ (sign_g * sign_m) * g with alpha = 2") == "alpha ^ (sign_g * sign_m) * g with alpha = 2");
  // Named constants first in source order, then settings in table order; defaults are dropped.
  CHECK(canonical("g * b + a with rd_n = 2, b = -1, beta1 = 0.9, a = 0.5, beta2 = 0.5") ==
        "g * b + a with b = -1, a = 0.5, beta2 = 0.5, rd_n = 2");
  CHECK(canonical("g with bias_correction = 1") == "g");
}

TEST_CASE("printer: modules put one rule per line") {
  Module m = parse_module(std::make_shared<Source>(Source{"m.dsl", "a: g; m\nb: v; 3; 4"}));
  CHECK(print(m) == "a: g;\nm\nb: v;\n3;\n4\n");
  Module again = parse_module(std::make_shared<Source>(Source{"m.dsl", print(m)}));
  CHECK(equal(m, again));
}

TEST_CASE("printer: print is a fixed point on the corpus") {
  for (const char* name : {"module.dsl", "multiline_with.dsl", "literals.dsl", "precedence.dsl", "calls.dsl"}) {
    CAPTURE(name);
    Module m = parse_file(std::string(NOS_SOURCE_DIR) + "/tests/dsl/corpus/" + name);
    std::string text = print(m);
    Module again = parse_module(std::make_shared<Source>(Source{"printed", text}));
    CHECK(equal(m, again));
    CHECK(print(again) == text);
  }
}

TEST_CASE("printer: equal ignores ranges and compares numbers bitwise") {
  CHECK(equal(*parse_rule("g  +  m").body, *parse_rule("(g)+(m)").body));
  CHECK_FALSE(equal(*parse_rule("g + m").body, *parse_rule("m + g").body));
  CHECK_FALSE(equal(*Expr::make_number(0.0f), *Expr::make_number(-0.0f)));
  CHECK(equal(*Expr::make_number(std::nanf("")), *Expr::make_number(std::nanf("1"))));
  CHECK_FALSE(equal(parse_rule("a: g"), parse_rule("b: g")));
  CHECK_FALSE(equal(parse_rule("g with beta1 = 0.5"), parse_rule("g")));
  CHECK(equal(parse_rule("g with beta1 = 0.9"), parse_rule("g")));  // a default, spelled out
  CHECK_FALSE(equal(parse_rule("g * a with a = 1"), parse_rule("g * a with a = 2")));
}
