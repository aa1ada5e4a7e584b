#include <doctest/doctest.h>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

TEST_CASE("dead_state: golden dump, unread slots go and the rest are renumbered in order") {
  Ir ir("dead");
  Value m = ir.m();
  Value unused_v = ir.v();
  Value y = ir.y();
  (void)ir.exp(unused_v);
  Function f = ir.done(ir.mul(m, y));
  REQUIRE(f.states.size() == 3);
  Function out = eliminate_dead_state(f);
  CHECK(dump(out) ==
        "rule dead\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  s1 = y: mavg(g^3, beta=0.999, bias_correction=on)\n"
        "  %0 = mavg s0                  elem\n"
        "  %1 = mavg s1                  elem\n"
        "  %2 = mul %0, %1               elem\n"
        "  result %2\n");
  CHECK(bytes_per_param(out) == 12 + 2 * 8);
}

TEST_CASE("dead_state: keep(g, v) loses v's buffer: 20 bytes per parameter become 12") {
  Ir ir;
  Function f = ir.done(ir.keep(ir.g(), ir.v()));
  CHECK(bytes_per_param(f) == 20);
  CHECK(bytes_per_param(eliminate_dead_state(f)) == 20);  // keep still reads v
  Function opt = optimize(f);
  CHECK(bytes_per_param(opt) == 12);
  CHECK(opt.states.empty());
  CHECK(to_text(opt) == "g");
}

TEST_CASE("dead_state: a function with nothing dead is unchanged") {
  Ir ir;
  Function f = ir.done(ir.div(ir.m(), ir.sqrt(ir.v())));
  CHECK(eliminate_dead_state(f) == f);
}
