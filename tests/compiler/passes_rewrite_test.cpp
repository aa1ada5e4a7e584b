// One test per rewrite rule: the rule matches the root it is written for, and simplify() turns
// the input into the expected text. Near misses check that each rule is no wider than it claims.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "compiler/passes.h"
#include "compiler/passes/rewrite.h"
#include "compiler/printer.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

const rewrite::RewriteRule* find_rule(std::string_view name) {
  for (const rewrite::RewriteRule& rule : rewrite::rewrite_rules())
    if (rule.name == name) return &rule;
  return nullptr;
}

template <class Build>
void check_rewrite(std::string_view rule_name, Build build, const std::string& expected) {
  Ir ir;
  Function f = ir.done(build(ir));
  const rewrite::RewriteRule* rule = find_rule(rule_name);
  REQUIRE_MESSAGE(rule, "no rule named " << rule_name);
  INFO("rule " << rule_name << " on " << to_text(f));
  CHECK(rewrite::match(*rule, f, f.body[f.result]).has_value());
  Function simplified = simplify(f);
  CHECK_NOTHROW(verify(simplified));
  CHECK(to_text(simplified) == expected);
}

template <class Build>
void check_unchanged(Build build) {
  Ir ir;
  Function f = ir.done(build(ir));
  INFO("input " << to_text(f));
  CHECK(simplify(f) == f);
}

const float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST_CASE("rewrite: every rule in the table has a test below") {
  const std::set<std::string> tested = {
      "mul-one", "add-zero", "sub-zero", "zero-sub", "mul-minus-one", "neg-neg", "neg-times-neg",
      "sub-neg", "add-neg", "sign-sign", "sign-neg", "log-neg", "sqrt-neg", "exp-zero", "keep", "id",
      "pow-one", "pow-zero", "drop-never", "drop-always", "drop-zero", "clip-unbounded", "clip-clip"};
  std::set<std::string> table;
  for (const rewrite::RewriteRule& rule : rewrite::rewrite_rules()) {
    CHECK_MESSAGE(table.insert(std::string(rule.name)).second, "duplicate rule name " << rule.name);
    CHECK(rule.before.kind == rewrite::Pattern::Kind::Apply);
  }
  CHECK(table == tested);
}

TEST_CASE("rewrite mul-one: x * 1 -> x, in either order") {
  check_rewrite("mul-one", [](Ir& ir) { return ir.mul(ir.g(), ir.c(1)); }, "g");
  check_rewrite("mul-one", [](Ir& ir) { return ir.mul(ir.c(1), ir.m()); }, "m");
  check_unchanged([](Ir& ir) { return ir.mul(ir.g(), ir.c(1.0000001f)); });
}

TEST_CASE("rewrite add-zero: x + 0 -> x, for either zero and order") {
  check_rewrite("add-zero", [](Ir& ir) { return ir.add(ir.g(), ir.c(0)); }, "g");
  check_rewrite("add-zero", [](Ir& ir) { return ir.add(ir.c(-0.0f), ir.g()); }, "g");
}

TEST_CASE("rewrite sub-zero: x - 0 -> x, but not 0 - x") {
  check_rewrite("sub-zero", [](Ir& ir) { return ir.sub(ir.g(), ir.c(0)); }, "g");
  CHECK(find_rule("sub-zero")->before.args[1].kind == rewrite::Pattern::Kind::Literal);
}

TEST_CASE("rewrite zero-sub: 0 - x -> -x") {
  check_rewrite("zero-sub", [](Ir& ir) { return ir.sub(ir.c(0), ir.g()); }, "-g");
}

TEST_CASE("rewrite mul-minus-one: x * -1 -> -x") {
  check_rewrite("mul-minus-one", [](Ir& ir) { return ir.mul(ir.c(-1), ir.m()); }, "-m");
  check_unchanged([](Ir& ir) { return ir.mul(ir.c(-2), ir.m()); });
}

TEST_CASE("rewrite neg-neg: -(-x) -> x") {
  check_rewrite("neg-neg", [](Ir& ir) { return ir.neg(ir.neg(ir.g())); }, "g");
}

TEST_CASE("rewrite neg-times-neg: (-x) * (-y) -> x * y") {
  check_rewrite("neg-times-neg", [](Ir& ir) { return ir.mul(ir.neg(ir.g()), ir.neg(ir.m())); }, "g * m");
  check_unchanged([](Ir& ir) { return ir.mul(ir.neg(ir.g()), ir.m()); });
}

TEST_CASE("rewrite sub-neg: x - (-y) -> x + y") {
  check_rewrite("sub-neg", [](Ir& ir) { return ir.sub(ir.g(), ir.neg(ir.m())); }, "g + m");
  check_unchanged([](Ir& ir) { return ir.sub(ir.neg(ir.g()), ir.m()); });
}

TEST_CASE("rewrite add-neg: x + (-y) -> x - y, in either order") {
  check_rewrite("add-neg", [](Ir& ir) { return ir.add(ir.g(), ir.neg(ir.m())); }, "g - m");
  check_rewrite("add-neg", [](Ir& ir) { return ir.add(ir.neg(ir.m()), ir.g()); }, "g - m");
}

TEST_CASE("rewrite sign-sign: sign(sign(x)) -> sign(x)") {
  check_rewrite("sign-sign", [](Ir& ir) { return ir.sign(ir.sign(ir.g())); }, "sign(g)");
}

TEST_CASE("rewrite sign-neg: sign(-x) -> -sign(x), and the negation then cancels above") {
  check_rewrite("sign-neg", [](Ir& ir) { return ir.sign(ir.neg(ir.g())); }, "-sign(g)");
  check_rewrite("sign-neg", [](Ir& ir) { return ir.sign(ir.neg(ir.sign(ir.neg(ir.g())))); }, "sign(g)");
}

TEST_CASE("rewrite log-neg and sqrt-neg: both read |x|") {
  check_rewrite("log-neg", [](Ir& ir) { return ir.log(ir.neg(ir.g())); }, "log(g)");
  check_rewrite("sqrt-neg", [](Ir& ir) { return ir.sqrt(ir.neg(ir.v())); }, "sqrt(v)");
  check_unchanged([](Ir& ir) { return ir.exp(ir.neg(ir.g())); });
}

TEST_CASE("rewrite exp-zero: exp(0) -> 1") {
  check_rewrite("exp-zero", [](Ir& ir) { return ir.exp(ir.c(0)); }, "1");
}

TEST_CASE("rewrite keep: keep(x, y) -> x, and the dropped side's slot goes with it") {
  check_rewrite("keep", [](Ir& ir) { return ir.keep(ir.g(), ir.v()); }, "g");
  Ir ir;
  Function f = ir.done(ir.mul(ir.keep(ir.ld(), ir.g()), ir.c(2)));
  Function s = simplify(f);
  CHECK(s.body[s.result].type == Type::Step);  // the product no longer reads an elementwise value
}

TEST_CASE("rewrite id: id(x) -> x") {
  check_rewrite("id", [](Ir& ir) { return ir.id(ir.m()); }, "m");
}

TEST_CASE("rewrite pow-one and pow-zero: x^1 -> x, x^0 -> sign(x)") {
  check_rewrite("pow-one", [](Ir& ir) { return ir.pow(ir.g(), ir.c(1)); }, "g");
  check_rewrite("pow-zero", [](Ir& ir) { return ir.pow(ir.g(), ir.c(0)); }, "sign(g)");
  check_rewrite("pow-zero", [](Ir& ir) { return ir.pow(ir.g(), ir.c(-0.0f)); }, "sign(g)");
  check_unchanged([](Ir& ir) { return ir.pow(ir.c(1), ir.g()); });
}

TEST_CASE("rewrite drop-never: drop(x, p) -> x when p <= 0") {
  check_rewrite("drop-never", [](Ir& ir) { return ir.drop(ir.g(), ir.c(0)); }, "g");
  check_rewrite("drop-never", [](Ir& ir) { return ir.drop(ir.g(), ir.c(-0.5f)); }, "g");
  check_unchanged([](Ir& ir) { return ir.drop(ir.g(), ir.c(1e-30f)); });
}

TEST_CASE("rewrite drop-always: drop(x, p) -> 0 when p >= 1") {
  check_rewrite("drop-always", [](Ir& ir) { return ir.drop(ir.g(), ir.c(1)); }, "0");
  check_unchanged([](Ir& ir) { return ir.drop(ir.g(), ir.c(0.99999994f)); });
}

TEST_CASE("rewrite drop-zero: drop(0, p) -> 0") {
  check_rewrite("drop-zero", [](Ir& ir) { return ir.drop(ir.c(0), ir.ld()); }, "0");
}

TEST_CASE("rewrite clip-unbounded: clip(x, inf) -> x") {
  check_rewrite("clip-unbounded", [](Ir& ir) { return ir.clip(ir.g(), ir.c(kInf)); }, "g");
  check_unchanged([](Ir& ir) { return ir.clip(ir.g(), ir.c(3e38f)); });
}

TEST_CASE("rewrite clip-clip: nested clips keep the tighter bound") {
  check_rewrite("clip-clip", [](Ir& ir) { return ir.clip(ir.clip(ir.g(), ir.c(1e-3f)), ir.c(1e-4f)); },
                "clip(g, 1e-4)");
  check_rewrite("clip-clip", [](Ir& ir) { return ir.clip(ir.clip(ir.g(), ir.c(1e-5f)), ir.c(1e-4f)); },
                "clip(g, 1e-5)");
  // A negative bound is no interval: clip(x, -1) is +-1 by the sign of x's comparisons.
  check_unchanged([](Ir& ir) { return ir.clip(ir.clip(ir.g(), ir.c(-1)), ir.c(1e-4f)); });
  check_unchanged([](Ir& ir) { return ir.clip(ir.clip(ir.g(), ir.ld()), ir.c(1e-4f)); });
}

TEST_CASE("simplify: non-literal arguments and other functions are left alone") {
  check_unchanged([](Ir& ir) { return ir.add(ir.mul(ir.g(), ir.m()), ir.div(ir.v(), ir.y())); });
  check_unchanged([](Ir& ir) { return ir.sub(ir.g(), ir.g()); });  // x - x is NaN for infinite x
  check_unchanged([](Ir& ir) { return ir.mul(ir.g(), ir.c(0)); });  // and x * 0 too
}

TEST_CASE("simplify: golden dump, with the unreachable instructions removed") {
  Ir ir("s");
  Value g = ir.g();
  Value dead = ir.exp(g);
  (void)dead;
  Value x = ir.mul(ir.id(g), ir.c(1));             // -> g
  Value y = ir.sub(ir.c(0), ir.neg(ir.m()));        // -> m
  Function f = ir.done(ir.add(ir.sign(ir.neg(x)), y));  // -> -sign(g) + m -> m - sign(g)
  CHECK(dump(simplify(f)) ==
        "rule s\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  %0 = grad                     elem\n"
        "  %1 = mavg s0                  elem\n"
        "  %2 = sign %0                  elem\n"
        "  %3 = sub %1, %2               elem\n"
        "  result %3\n");
}
