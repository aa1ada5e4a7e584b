#include <doctest/doctest.h>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

TEST_CASE("cse: golden dump, commutative operands merge in either order") {
  Ir ir("cse");
  Value g1 = ir.g(), g2 = ir.g();
  Value g12 = ir.mul(g1, g2);
  Value g3 = ir.mul(g12, ir.g());                     // g3 as lowered: g * g * g
  Value m1 = ir.m(), m2 = ir.m();
  Value a = ir.add(m1, g3), b = ir.add(g3, m2);       // same sum, other order
  Function f = ir.done(ir.div(a, b));
  CHECK(dump(eliminate_common_subexpressions(f)) ==
        "rule cse\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  %0 = grad                     elem\n"
        "  %1 = mul %0, %0               elem\n"
        "  %2 = mul %1, %0               elem\n"
        "  %3 = mavg s0                  elem\n"
        "  %4 = add %3, %2               elem\n"
        "  %5 = div %4, %4 delta=1e-8    elem\n"
        "  result %5\n");
}

TEST_CASE("cse: drops on different streams stay apart, normals on one stream merge") {
  Ir ir;
  Value g = ir.g(), p = ir.c(0.5f);
  Value d1 = ir.drop(g, p), d2 = ir.drop(g, p);
  Value e1 = ir.eps(), e2 = ir.eps();
  Function f = ir.done(ir.add(ir.mul(d1, d2), ir.mul(e1, e2)));
  Function out = eliminate_common_subexpressions(f);
  int drops = 0, normals = 0;
  for (const Instr& in : out.body) drops += in.op == Op::Drop, normals += in.op == Op::Normal;
  CHECK(drops == 2);
  CHECK(normals == 1);
  CHECK(out.body.size() == f.body.size() - 3);  // the second eps: its constant, normal and product
  CHECK(to_text(out) == "drop(g, 0.5) * drop(g, 0.5) + eps * eps");
}

TEST_CASE("cse: only fields an op reads decide equality") {
  Ir ir;
  Value g = ir.g(), m = ir.m();
  Value a = ir.div(g, m, 1e-8f), b = ir.div(g, m, 1e-6f);  // deltas differ
  Value cd = ir.cd(0.5f);
  Value c = ir.add(cd, ir.cd(2.0f));                       // periods differ
  Function f = ir.done(ir.add(ir.add(a, b), c));
  Function raw = f;
  raw.body.push_back({Op::Neg, Type::Elem, {0, 0}, 7.0f, 9});  // don't-care imm and index
  raw.body.push_back({Op::Neg, Type::Elem, {0, 0}, 0.0f, 0});
  const auto n = static_cast<Value>(raw.body.size());
  raw.body.push_back({Op::Add, Type::Elem, {n - 2, n - 1}});
  raw.result = static_cast<Value>(raw.body.size() - 1);
  verify(raw);
  Function out = eliminate_common_subexpressions(raw);
  CHECK(to_text(out) == "-g + -g");
  int divs = 0, steps = 0;
  for (const Instr& in : out.body) divs += in.op == Op::Div, steps += in.op == Op::Step;
  CHECK(divs == 2);
  CHECK(steps == 2);
}

TEST_CASE("cse: two slots with the same average merge into the first") {
  Ir ir;
  Value a = ir.mavg(2, 0.999f, true), b = ir.mavg(2, 0.999f, true, /*fresh=*/true);
  Value ab = ir.mul(a, b);
  Value c = ir.mavg(2, 0.99f, true, /*fresh=*/true);
  Function f = ir.done(ir.add(ab, c));
  REQUIRE(f.states.size() == 3);
  Function out = eliminate_dead_state(eliminate_common_subexpressions(f));
  CHECK(out.states.size() == 2);
  CHECK(dump(out) ==
        "rule <anonymous>\n"
        "  s0 = v: mavg(g^2, beta=0.999, bias_correction=on)\n"
        "  s1 = v: mavg(g^2, beta=0.99, bias_correction=on)\n"
        "  %0 = mavg s0                  elem\n"
        "  %1 = mul %0, %0               elem\n"
        "  %2 = mavg s1                  elem\n"
        "  %3 = add %1, %2               elem\n"
        "  result %3\n");
}
