// Every row of dsl/functions.def, end to end: the call f(g, w) lowered to IR and run on the
// reference interpreter equals the row's own eval on edge values, bit for bit. A row whose op
// the lowering or the interpreter does not know (a new function wired up halfway) fails here.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "compiler/interpreter.h"
#include "compiler/lower.h"
#include "dsl/random.h"

namespace {

using namespace nos;

const std::vector<float>& edge_values() {
  static const std::vector<float> values = {
      0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -2.5f, 3.0f, 1e-40f, -1e-40f, 1e30f, -1e30f,
      std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
      std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
      std::numeric_limits<float>::min(), std::numeric_limits<float>::max()};
  return values;
}

bool same_result(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

}  // namespace

TEST_CASE("function rows: lowering + interpreting f(x, y) equals the row's eval on edge values") {
  const dsl::OperandInfo* g = dsl::find_operand("g");
  const dsl::OperandInfo* w = dsl::find_operand("w");
  REQUIRE(g);
  REQUIRE(w);
  for (const dsl::FunctionInfo& row : dsl::functions()) {
    CAPTURE(std::string(row.name));
    // A random function's last argument (drop's probability) must be a constant: one rule per
    // edge value there, with the gradient running over every edge value.
    std::vector<std::optional<float>> constant_args{std::nullopt};
    if (row.draws_random()) constant_args.assign(edge_values().begin(), edge_values().end());
    for (std::optional<float> constant : constant_args) {
      std::vector<dsl::ExprPtr> args{dsl::Expr::make_operand(g)};
      if (row.arity > 1) args.push_back(constant ? dsl::Expr::make_number(*constant) : dsl::Expr::make_operand(w));
      dsl::Rule rule;
      rule.body = dsl::Expr::make_call(row.fn, std::move(args));
      ir::Function f = ir::lower(rule);
      ir::verify(f);
      if (row.fn != dsl::Fn::Id) {  // id disappears in the lowering; every other row is its own op
        REQUIRE(f.body.at(f.result).op == ir::op_of(row.fn));
        CHECK(std::string(ir::name(f.body[f.result].op)) == std::string(row.name));
      }

      // Every (x, y) pair of edge values: x is the gradient, y the parameter w or the constant.
      std::vector<float> xs, ys;
      for (float x : edge_values())
        for (float y : row.arity > 1 && !constant ? edge_values() : std::vector<float>{constant.value_or(0.0f)})
          xs.push_back(x), ys.push_back(y);
      ir::StepContext ctx{1, 10, 0.01f, 42, 0, nullptr};
      std::vector<float*> no_states;
      std::vector<float> delta = ir::interpret_delta(f, ctx, ys.data(), xs.data(), no_states, xs.size());
      REQUIRE(delta.size() == xs.size());

      unsigned long long key = nos_rng_key(ctx.seed, ctx.t, ctx.tensor, f.body[f.result].index);
      int mismatches = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        float extra = row.extra == dsl::Extra::Delta     ? dsl::Settings{}.delta
                      : row.extra == dsl::Extra::Uniform ? nos_uniform(key, i)
                                                         : 0.0f;
        float expected = row.eval(xs[i], ys[i], extra);
        if (!same_result(delta[i], expected) && mismatches++ < 4) {
          CAPTURE(xs[i]);
          CAPTURE(ys[i]);
          CHECK(delta[i] == expected);
        }
      }
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("function rows: ir::Op and the token form follow the rows") {
  for (const dsl::FunctionInfo& row : dsl::functions()) {
    CHECK(ir::is_function(ir::op_of(row.fn)));
    CHECK(ir::fn_of(ir::op_of(row.fn)) == row.fn);
    CHECK(ir::arity(ir::op_of(row.fn)) == row.arity);
    CHECK(ir::draws_random(ir::op_of(row.fn)) == (row.extra == dsl::Extra::Uniform));
  }
  // Every token of the unary and binary slots names a row and spells one of its token_spellings.
  for (dsl::Slot slot : {dsl::Slot::Unary, dsl::Slot::Binary})
    for (const dsl::TokenInfo& t : dsl::tokens(slot)) {
      CAPTURE(std::string(t.spelling));
      CHECK(dsl::info(t.fn).token_spellings.find(t.spelling) != std::string_view::npos);
      CHECK((slot == dsl::Slot::Unary) == (dsl::info(t.fn).arity == 1 || t.param.has_value()));
    }
}
