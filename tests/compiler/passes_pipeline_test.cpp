#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

// What the token form `g v id id keep` + `o1 m id exp mul`-style rules lower to: plenty of noise.
Function noisy_rule() {
  Ir ir("noisy");
  Value g = ir.g();
  Value kept = ir.keep(ir.id(g), ir.v());                    // g (and v's slot becomes dead)
  Value one = ir.exp(ir.sub(ir.c(2), ir.c(2)));              // exp(0) = 1 after folding
  Value m = ir.mul(ir.neg(ir.neg(ir.m())), one);             // m
  Value w4 = ir.mul(ir.c(1e-4f), ir.w());
  Value sum = ir.add(ir.mul(m, kept), ir.neg(w4));           // m * g - 0.0001 * w
  return ir.done(ir.add(sum, ir.mul(ir.g(), ir.c(0))));      // + g * 0: not removable (inf * 0)
}

}  // namespace

TEST_CASE("optimize: golden dump of a noisy rule") {
  Function opt = optimize(noisy_rule());
  CHECK(dump(opt) ==
        "rule noisy\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  %0 = grad                     elem\n"
        "  %1 = const 0                  step\n"
        "  %2 = mul %0, %1               elem\n"
        "  %3 = mavg s0                  elem\n"
        "  %4 = mul %0, %3               elem\n"
        "  %5 = weight                   elem\n"
        "  %6 = const 1e-4               step\n"
        "  %7 = mul %5, %6               elem\n"
        "  %8 = sub %4, %7               elem\n"
        "  %9 = add %2, %8               elem\n"
        "  result %9\n");
  CHECK(to_text(opt) == "noisy: g * 0 + (g * m - w * 1e-4)");
  CHECK(bytes_per_param(noisy_rule()) == 12 + 16);
  CHECK(bytes_per_param(opt) == 12 + 8);
}

TEST_CASE("optimize: the trace names every pass in order and ends at the result") {
  std::vector<PassRecord> trace;
  Function opt = optimize(noisy_rule(), &trace);
  REQUIRE(trace.size() >= 6);
  std::vector<std::string> names;
  for (const PassRecord& r : trace) names.push_back(r.pass);
  CHECK(names[0] == "fold_constants");
  CHECK(names[1] == "simplify");
  CHECK(names[2] == "fold_constants");
  CHECK(names[3] == "eliminate_common_subexpressions");
  CHECK(names[names.size() - 2] == "eliminate_dead_state");
  CHECK(names.back() == "canonicalize");
  CHECK((names.size() - 3) % 3 == 0);  // whole rounds of simplify, fold, cse
  CHECK(trace.back().after == opt);
  for (const PassRecord& r : trace) CHECK_NOTHROW(verify(r.after));
}

TEST_CASE("optimize: is a fixed point and keeps the name") {
  Function opt = optimize(noisy_rule());
  CHECK(opt.name == "noisy");
  CHECK(optimize(opt) == opt);
  CHECK(canonical_hash(optimize(opt)) == canonical_hash(opt));
}

TEST_CASE("optimize: rules that differ only by noise share one hash") {
  Ir a("a");
  Function plain = a.done(a.mul(a.sign(a.g()), a.m()));
  Ir b("b");
  Function noisy = b.done(b.mul(b.id(b.m()), b.sign(b.sign(b.mul(b.g(), b.c(1))))));
  CHECK(canonical_hash(optimize(plain)) == canonical_hash(optimize(noisy)));
  CHECK(to_text(optimize(noisy)) == "b: " + to_text(optimize(plain)).substr(3));
}

TEST_CASE("optimize: rejects invalid input instead of optimizing it") {
  Function f;
  f.body.push_back({Op::Neg, Type::Elem, {0, 0}});
  CHECK_THROWS_AS(optimize(f), std::logic_error);
}
