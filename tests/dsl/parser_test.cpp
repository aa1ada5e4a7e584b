#include <doctest/doctest.h>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl_test_util.h"

using namespace nos::dsl;
using nos::dsl::test::canonical;
using nos::dsl::test::tree;

TEST_CASE("parser: precedence of + - * /") {
  CHECK(tree("g + m * v") == "(add g (mul m v))");
  CHECK(tree("g * m + v") == "(add (mul g m) v)");
  CHECK(tree("g - m / v") == "(sub g (div m v))");
  CHECK(tree("(g + m) * v") == "(mul (add g m) v)");
}

TEST_CASE("parser: + - * / are left-associative") {
  CHECK(tree("g - m - v") == "(sub (sub g m) v)");
  CHECK(tree("g / m / v") == "(div (div g m) v)");
  CHECK(tree("g - m + v") == "(add (sub g m) v)");
}

TEST_CASE("parser: ^ binds tighter than unary minus and is right-associative") {
  CHECK(tree("-2^2") == "(neg (pow 2 2))");
  CHECK(tree("2^3^2") == "(pow 2 (pow 3 2))");
  CHECK(tree("2^-1") == "(pow 2 (neg 1))");
  CHECK(tree("2^-g^2") == "(pow 2 (neg (pow g 2)))");
  CHECK(tree("(-g)^2") == "(pow (neg g) 2)");
  CHECK(tree("2 * g ^ m") == "(mul 2 (pow g m))");
  CHECK(tree("--g") == "(neg (neg g))");
  CHECK(tree("g * -m") == "(mul g (neg m))");
}

TEST_CASE("parser: calls map names through the vocabulary") {
  CHECK(tree("exp(g)") == "(exp g)");
  CHECK(tree("clip(g, 1e-4)") == "(clip g 1e-4)");
  CHECK(tree("add(g, m)") == "(add g m)");
  CHECK(tree("neg(g)") == "(neg g)");
  CHECK(tree("keep(g, sqrt(v))") == "(keep g (sqrt v))");
  CHECK(tree("id(g)") == "(id g)");
  CHECK(tree("div(g, v, 1e-6)") == "(div g v 1e-6)");
  CHECK(tree("div(g, v, 2 * adam_eps)") == "(div g v (mul 2 $adam_eps))");
  CHECK(tree("w") == "w");
  CHECK(tree("1") == "1");  // a literal stays a Number, never the token operand `1`
}

TEST_CASE("parser: every example rule of DSL.md parses") {
  CHECK(canonical("g") == "g");
  CHECK(canonical("adam") == "adam");
  CHECK(canonical("rmsprop") == "rmsprop");
  CHECK(tree("exp(sign(g) * sign(m)) * g") == "(mul (exp (mul (sign g) (sign m))) g)");
  CHECK(tree("exp(ld * sign(g) * sign(m)) * g") == "(mul (exp (mul (mul ld (sign g)) (sign m))) g)");
  CHECK(tree("(1 + sign(g) * sign(m)) * g") == "(mul (add 1 (mul (sign g) (sign m))) g)");
  CHECK(tree("(1 + cd * sign(g) * sign(m)) * g") == "(mul (add 1 (mul (mul cd (sign g)) (sign m))) g)");
  CHECK(tree("(exp(sign(g) * sign(m)) + clip(g, 1e-4)) * g") ==
        "(mul (add (exp (mul (sign g) (sign m))) (clip g 1e-4)) g)");
  CHECK(tree("drop(m, 0.3) * exp(w)") == "(mul (drop m 0.3) (exp w))");
  CHECK(tree("g + drop(m, 0.3)") == "(add g (drop m 0.3))");
}

TEST_CASE("parser: vocabulary operand definitions parse") {
  // The compiler expands derived operands from these texts; settings appear in them by name.
  for (const OperandInfo& o : operands()) {
    if (o.definition.empty()) continue;
    CAPTURE(o.definition);
    CHECK_NOTHROW(parse_rule(o.definition));
  }
  CHECK(tree("div(m, sqrt(v), adam_eps)") == "(div m (sqrt v) $adam_eps)");
}

TEST_CASE("parser: with clause sets settings") {
  Rule r = parse_rule("rmsprop with beta2 = 0.99, bias_correction = off");
  CHECK(r.settings.beta2 == 0.99f);
  CHECK(r.settings.bias_correction == 0.0f);
  CHECK(r.settings.beta1 == Settings{}.beta1);
  REQUIRE(r.bindings.size() == 2);
  CHECK(r.bindings[0].name == "beta2");
  CHECK(r.bindings[1].value == 0.0f);
  CHECK(parse_rule("g with bias_correction = true").settings.bias_correction == 1.0f);
  CHECK(parse_rule("g with bias_correction = false").settings.bias_correction == 0.0f);
  CHECK(parse_rule("g with bias_correction = 0").settings.bias_correction == 0.0f);
  CHECK(parse_rule("g with bias_correction = on").settings.bias_correction == 1.0f);
  CHECK(parse_rule("g with cd_n = 3, delta = 0").settings.cd_n == 3.0f);
}

TEST_CASE("parser: named constants are bound by the with clause") {
  Rule r = parse_rule("alpha ^ (sign_g * sign_m) * g with alpha = 2");
  CHECK(nos::dsl::test::sexpr(*r.body) == "(mul (pow $alpha (mul sign_g sign_m)) g)");
  REQUIRE(r.bindings.size() == 1);
  CHECK(r.bindings[0].value == 2.0f);
  CHECK(parse_rule("g * a with a = -2.5").bindings[0].value == -2.5f);
  CHECK(tree("a * g + b with a = 1, b = 2") == "(add (mul $a g) $b)");
}

TEST_CASE("parser: modules hold several rules") {
  auto source = std::make_shared<Source>(Source{"rules.dsl",
                                                "# optimizers\n"
                                                "sgd: g\n"
                                                "adam: adam with beta1 = 0.8;\n"
                                                "m * 2; exp(g)\n"
                                                "powersign: exp(sign_g * sign_m) * g;\n"});
  Module m = parse_module(source);
  REQUIRE(m.rules.size() == 5);
  CHECK(m.rules[0].name == "sgd");
  CHECK(m.rules[1].name == "adam");
  CHECK(m.rules[1].settings.beta1 == 0.8f);
  CHECK(m.rules[2].name.empty());
  CHECK(m.rules[3].name.empty());
  CHECK(m.rules[4].name == "powersign");
  CHECK(m.rules[1].range.line == 3);
  CHECK(m.rules[3].range.line == 4);
  CHECK(m.rules[3].range.column == 8);
  CHECK(m.source == source);
}

TEST_CASE("parser: source ranges of nodes") {
  Rule r = parse_rule("2 * exp(g)");
  CHECK(r.body->range.offset == 0);
  CHECK(r.body->range.length == 10);
  CHECK(r.body->args[1]->range.offset == 4);
  CHECK(r.body->args[1]->range.length == 6);
  CHECK(r.body->args[1]->args[0]->range.column == 9);
}

TEST_CASE("parser: parse_file reads rule files") {
  Module m = parse_file(std::string(NOS_SOURCE_DIR) + "/tests/dsl/corpus/powersign.dsl");
  REQUIRE_FALSE(m.rules.empty());
  CHECK(m.source->name.ends_with("powersign.dsl"));
}
