// lower_sign_lookups: which functions of sign products become tables, and that the interpreter
// computes the same values before and after, on hand-written rules and on the controller's
// random rules.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "compiler/interpreter.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/parser.h"
#include "dsl/semantics.h"
#include "dsl/tokens.h"
#include "interpret_testing.h"
#include "pass_testing.h"

using namespace nos;
using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

int count(const Function& f, Op op) {
  int n = 0;
  for (const Instr& in : f.body) n += in.op == op;
  return n;
}

Function compile(const char* text) { return optimize(lower(dsl::parse_rule(text))); }

// Three steps of f on gradients that include every sign case: +-0, NaN, +-inf, denormals.
std::vector<float> run(const Function& f, std::uint64_t seed) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const std::vector<float> special = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), kInf, -kInf, 1e-40f, -1e-40f};
  return testing::run_three_steps(f, seed, 40, [&](std::vector<float>& g, std::uint32_t t) {
    for (std::size_t k = 0; k < special.size(); ++k) g[(k * 5 + t) % g.size()] = special[k];
  });
}

void check_same_values(const Function& before, const Function& after, std::uint64_t seed) {
  std::vector<float> a = run(before, seed), b = run(after, seed);
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO("element " << k << ": " << a[k] << " vs " << b[k]);
    REQUIRE(same(a[k], b[k]));
  }
}

}  // namespace

TEST_CASE("sign lookup: PowerSign's exp becomes a table of exp(-1), exp(0), exp(1) and NaN") {
  Function f = compile("exp(sign(g) * sign(m)) * g");
  Function out = lower_sign_lookups(f);
  verify(out);
  CHECK(count(f, Op::Exp) == 1);
  CHECK(count(out, Op::Exp) == 0);
  REQUIRE(out.lookups.size() == 1);
  const LookupTable& t = out.lookups[0];
  CHECK(same(t.negative, nos_exp(-1.0f)));
  CHECK(same(t.zero, 1.0f));
  CHECK(same(t.positive, nos_exp(1.0f)));
  CHECK(std::isnan(t.nan));
  CHECK(dump(out).find("lookup") != std::string::npos);
  CHECK(out.states == f.states);
  CHECK_THROWS_AS(to_text(out), std::logic_error);  // a code generation form, not DSL
  check_same_values(f, out, 1);
}

TEST_CASE("sign lookup: a function of sign(x) alone reads x, cheap functions stay as they are") {
  Ir ir;
  Value g = ir.g();
  Function f = ir.done(ir.mul(ir.sqrt(ir.add(ir.c(2), ir.sign(g))), g));
  Function out = lower_sign_lookups(f);
  REQUIRE(count(out, Op::Lookup) == 1);
  CHECK(count(out, Op::Sign) == 0);
  for (const Instr& in : out.body)
    if (in.op == Op::Lookup) CHECK(out.body[in.args[0]].op == Op::Grad);
  check_same_values(f, out, 2);

  Function addsign = compile("(1 + sign(g) * sign(m)) * g");
  CHECK(lower_sign_lookups(addsign) == addsign);
}

TEST_CASE("sign lookup: no table where f(-0) and f(+0) differ, or where another value enters") {
  // pow(-0, 2) = -0 but pow(+0, 2) = +0: the table has one entry for both zeros.
  Function zeros = compile("pow(sign(g) * sign(m), 2) * g");
  CHECK(count(lower_sign_lookups(zeros), Op::Lookup) == 0);
  // exp(sign(g) * m) depends on m, not only on signs.
  Function mixed = compile("exp(sign(g) * m)");
  CHECK(lower_sign_lookups(mixed) == mixed);
  // Two different sign products: no single root.
  Function two = compile("exp(sign(g) + sign(m))");
  CHECK(lower_sign_lookups(two) == two);
}

TEST_CASE("sign lookup: 20,000 random controller rules compute the same values after lowering") {
  std::mt19937_64 rng(7);
  int lowered = 0;
  for (int i = 0; i < 20000; ++i) {
    dsl::TokenSequence tokens = dsl::random_tokens(rng, 1 + i % 3);
    Function f = optimize(lower(dsl::to_rule(tokens)));
    Function out = lower_sign_lookups(f);
    if (out == f) continue;
    INFO("tokens: " << dsl::print_tokens(tokens));
    verify(out);
    CHECK(out.states == f.states);
    check_same_values(f, out, static_cast<std::uint64_t>(i));
    ++lowered;
  }
  MESSAGE(lowered << " of 20000 random rules have a sign lookup");
  CHECK(lowered >= 50);  // the generator does draw such rules: the comparison above is not vacuous
}
