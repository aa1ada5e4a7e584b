#include <doctest/doctest.h>

#include <cmath>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/semantics.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

TEST_CASE("fold_constants: golden dump, chains fold in one sweep, leaves and drop stay") {
  Ir ir("fold");
  Value three = ir.neg(ir.c(3));                      // -3
  Value e = ir.exp(ir.c(1));                          // e in float32
  Value tenth = ir.c(0.1f);
  Value scaled = ir.mul(tenth, ir.w());               // elementwise: not folded
  Value e1 = ir.add(e, ir.c(1));
  Value q = ir.div(three, e1, 0.5f);                  // -3 / ((e + 1) + 0.5)
  Value two = ir.c(2);
  Value kept = ir.drop(two, ir.c(0.5f));              // a draw per element: never folded
  Value sum = ir.add(scaled, q);
  Value decayed = ir.mul(kept, ir.ld());
  Function f = ir.done(ir.add(sum, decayed));
  CHECK(dump(fold_constants(f)) ==
        "rule fold\n"
        "  %0 = const 3                  step\n"
        "  %1 = const -3                 step\n"
        "  %2 = const 1                  step\n"
        "  %3 = const 2.7182817          step\n"
        "  %4 = const 0.1                step\n"
        "  %5 = weight                   elem\n"
        "  %6 = mul %4, %5               elem\n"
        "  %7 = const 1                  step\n"
        "  %8 = const 3.7182817          step\n"
        "  %9 = const -0.71119004        step\n"
        "  %10 = const 2                 step\n"
        "  %11 = const 0.5               step\n"
        "  %12 = drop %10, %11 stream=2  elem\n"
        "  %13 = add %6, %9              elem\n"
        "  %14 = step ld                 step\n"
        "  %15 = mul %12, %14            elem\n"
        "  %16 = add %13, %15            elem\n"
        "  result %16\n");
}

TEST_CASE("fold_constants: folds with the interpreter's float32 functions") {
  Ir ir;
  Function f = ir.done(ir.pow(ir.c(-2), ir.c(0.5f)));
  Function folded = fold_constants(f);
  CHECK(folded.body[folded.result].op == Op::Const);
  CHECK(folded.body[folded.result].imm == nos_pow(-2.0f, 0.5f));  // sign(x) |x|^y, not NaN

  Ir ir2;
  Function div = fold_constants(ir2.done(ir2.div(ir2.c(1), ir2.c(0), 0.25f)));
  CHECK(div.body[div.result].imm == 4.0f);  // x / (y + delta): delta is the immediate
}

TEST_CASE("fold_constants: NaN and infinities fold like any value") {
  Ir ir;
  Function f = fold_constants(ir.done(ir.sub(ir.log(ir.c(0)), ir.log(ir.c(0)))));
  CHECK(std::isnan(f.body[f.result].imm));
  CHECK(to_text(f) == "log(0) - log(0)");
}

TEST_CASE("fold_constants: random leaves, step scalars and drops are never folded") {
  Ir ir;
  Value a = ir.drop(ir.c(1), ir.c(0.3f));
  Value b = ir.mul(ir.cd(), ir.c(2));
  Value n = ir.mul(ir.normal(kEpsStream), ir.c(0));
  Function f = ir.done(ir.add(ir.add(a, b), n));
  CHECK(fold_constants(f) == f);
}
