#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/parser.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

// to_text of `build`'s expression, built in a fresh function named `name` ("" for anonymous).
template <class Build>
std::string text_of(Build build, std::string name = "") {
  Ir ir(std::move(name));
  return to_text(ir.done(build(ir)));
}

}  // namespace

TEST_CASE("printer: dump lists slots, instructions with types in a column, and the result") {
  Ir ir("powersign");
  Value g = ir.g();
  Value s = ir.sign(g);
  Value m = ir.m();
  Value d = ir.c(1e-8f);
  Value q = ir.div(s, m);
  ir.cd();
  ir.normal(kEpsStream);
  ir.drop(g, d);
  CHECK(dump(ir.done(q)) ==
        "rule powersign\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  %0 = grad                     elem\n"
        "  %1 = sign %0                  elem\n"
        "  %2 = mavg s0                  elem\n"
        "  %3 = const 1e-8               step\n"
        "  %4 = div %1, %2 delta=1e-8    elem\n"
        "  %5 = step cd n=0.5            step\n"
        "  %6 = normal stream=0          elem\n"
        "  %7 = drop %0, %3 stream=2     elem\n"
        "  result %4\n");
}

TEST_CASE("printer: dump spells every leaf and keeps a gap after long instructions") {
  Ir ir("");
  Value v = ir.v(0.99f, false);
  Value w = ir.w();
  Value a = ir.add(w, ir.ld());
  Value rd = ir.rd(2);
  Value r = ir.pow(rd, ir.step(StepScalar::NoiseStd));
  Value q = ir.div(a, v, 0.125f);
  Value long_one = ir.div(q, r, -0.0f);
  CHECK(dump(ir.done(long_one)) ==
        "rule <anonymous>\n"
        "  s0 = v: mavg(g^2, beta=0.99, bias_correction=off)\n"
        "  %0 = mavg s0                  elem\n"
        "  %1 = weight                   elem\n"
        "  %2 = step ld                  step\n"
        "  %3 = add %1, %2               elem\n"
        "  %4 = step rd n=2              step\n"
        "  %5 = step noise_std           step\n"
        "  %6 = pow %4, %5               step\n"
        "  %7 = div %3, %0 delta=0.125   elem\n"
        "  %8 = div %7, %6 delta=-0      elem\n"
        "  result %8\n");
}

TEST_CASE("printer: to_text names operands as the DSL does") {
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.exp(ir.mul(ir.sign(ir.g()), ir.sign(ir.m()))), ir.g()); }, "powersign") ==
        "powersign: exp(sign(g) * sign(m)) * g");
  CHECK(text_of([](Ir& ir) { return ir.add(ir.add(ir.v(), ir.y()), ir.w()); }) == "v + y + w");
  CHECK(text_of([](Ir& ir) { return ir.add(ir.add(ir.ld(), ir.cd()), ir.rd()); }) == "ld + cd + rd");
  CHECK(text_of([](Ir& ir) { return ir.add(ir.noise(), ir.eps()); }) == "noise + eps");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.normal(kNoiseStream), ir.step(StepScalar::NoiseStd)); }) == "noise");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.normal(kEpsStream), ir.c(0.01f)); }) == "eps");
}

TEST_CASE("printer: to_text calls the functions without an infix form") {
  CHECK(text_of([](Ir& ir) {
          Value g = ir.g();
          return ir.keep(ir.clip(ir.log(g), ir.c(1e-4f)), ir.drop(ir.sqrt(ir.id(g)), ir.c(0.3f)));
        }) == "keep(clip(log(g), 1e-4), drop(sqrt(id(g)), 0.3))");
  CHECK(text_of([](Ir& ir) { return ir.div(ir.m(), ir.sqrt(ir.v())); }) == "m / sqrt(v)");
  CHECK(text_of([](Ir& ir) { return ir.div(ir.m(), ir.v(), 1e-6f); }) == "div(m, v, 1e-6)");
  CHECK(text_of([](Ir& ir) { return ir.div(ir.m(), ir.v(), 0); }) == "div(m, v, 0)");
}

TEST_CASE("printer: to_text uses the fewest parentheses that parse back the same") {
  auto binary = [](auto make) {
    return text_of([&](Ir& ir) { return make(ir, ir.g(), ir.m(), ir.v()); });
  };
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.mul(ir.add(a, b), c); }) == "(g + m) * v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.add(a, ir.mul(b, c)); }) == "g + m * v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.sub(ir.sub(a, b), c); }) == "g - m - v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.sub(a, ir.sub(b, c)); }) == "g - (m - v)");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.add(a, ir.add(b, c)); }) == "g + (m + v)");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.div(a, ir.mul(b, c)); }) == "g / (m * v)");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.mul(ir.div(a, b), c); }) == "g / m * v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.pow(a, ir.pow(b, c)); }) == "g ^ m ^ v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value c) { return ir.pow(ir.pow(a, b), c); }) == "(g ^ m) ^ v");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.pow(ir.neg(a), b); }) == "(-g) ^ m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.neg(ir.pow(a, b)); }) == "-g ^ m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.pow(a, ir.neg(b)); }) == "g ^ -m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.pow(a, ir.add(b, b)); }) == "g ^ (m + m)");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.mul(a, ir.neg(b)); }) == "g * -m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.sub(a, ir.neg(b)); }) == "g - -m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.mul(ir.neg(a), b); }) == "-g * m");
  CHECK(binary([](Ir& ir, Value a, Value b, Value) { return ir.neg(ir.mul(a, b)); }) == "-(g * m)");
  CHECK(binary([](Ir& ir, Value a, Value, Value) { return ir.neg(ir.neg(a)); }) == "- -g");
}

TEST_CASE("printer: to_text writes constants that fold back to the same float") {
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.g(), ir.c(-3)); }) == "g * -3");
  CHECK(text_of([](Ir& ir) { return ir.pow(ir.c(-3), ir.g()); }) == "(-3) ^ g");
  CHECK(text_of([](Ir& ir) { return ir.neg(ir.c(-0.5f)); }) == "- -0.5");
  CHECK(text_of([](Ir& ir) { return ir.add(ir.g(), ir.c(-0.0f)); }) == "g + -0");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.c(0.1f), ir.w()); }) == "0.1 * w");
  const float inf = std::numeric_limits<float>::infinity();
  // Never higher than the least that folds to them (dsl/parser.cpp's heights): exp(100) overflows.
  CHECK(text_of([&](Ir& ir) { return ir.add(ir.g(), ir.c(inf)); }) == "g + exp(100)");
  CHECK(text_of([&](Ir& ir) { return ir.pow(ir.c(-inf), ir.g()); }) == "log(0) ^ g");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.g(), ir.c(std::numeric_limits<float>::quiet_NaN())); }) ==
        "g * (log(0) - log(0))");
}

TEST_CASE("printer: to_text recovers non-default settings into a with clause") {
  CHECK(text_of([](Ir& ir) { return ir.add(ir.m(0.95f), ir.v(0.99f)); }) == "m + v with beta1 = 0.95, beta2 = 0.99");
  CHECK(text_of([](Ir& ir) { return ir.y(0.999f, false); }) == "y with bias_correction = off");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.cd(2), ir.rd(3)); }) == "cd * rd with cd_n = 2, rd_n = 3");
  CHECK(text_of([](Ir& ir) { return ir.eps(0.1f); }) == "eps with eps_sigma = 0.1");
  CHECK(text_of([](Ir& ir) { return ir.mul(ir.g(), ir.m()); }, "sgdm") == "sgdm: g * m");
}

TEST_CASE("printer: eps without its default factor prints with eps_sigma = 1") {
  // eps_sigma = 1 lowers to 1 * normal, which simplification turns into the bare normal.
  CHECK(text_of([](Ir& ir) { return ir.add(ir.g(), ir.normal(kEpsStream)); }) == "g + eps with eps_sigma = 1");
  // Two factors cannot both be the sigma: print them as factors of a unit eps.
  CHECK(text_of([](Ir& ir) { return ir.add(ir.eps(0.5f), ir.eps(2)); }) == "0.5 * eps + 2 * eps with eps_sigma = 1");
  CHECK(text_of([](Ir& ir) {
          Value n = ir.normal(kEpsStream);
          return ir.add(ir.mul(ir.c(0.01f), n), n);
        }) == "0.01 * eps + eps with eps_sigma = 1");
}

TEST_CASE("printer: a shared subexpression is printed at each use") {
  CHECK(text_of([](Ir& ir) {
          Value s = ir.sign(ir.g());
          return ir.mul(s, ir.add(s, ir.c(1)));
        }) == "sign(g) * (sign(g) + 1)");
}

TEST_CASE("printer: to_text rejects IR that no text lowers to") {
  auto rejects = [](auto build) {
    Ir ir;
    Function f = ir.done(build(ir));
    CHECK_THROWS_AS(to_text(f), std::logic_error);
  };
  rejects([](Ir& ir) { return ir.normal(kNoiseStream); });
  rejects([](Ir& ir) { return ir.mul(ir.g(), ir.normal(7)); });
  rejects([](Ir& ir) { return ir.step(StepScalar::NoiseStd); });
  rejects([](Ir& ir) { return ir.add(ir.m(0.9f), ir.m(0.5f)); });           // two betas for m
  rejects([](Ir& ir) { return ir.add(ir.m(0.9f, true), ir.v(0.999f, false)); });  // mixed correction
  rejects([](Ir& ir) { return ir.add(ir.cd(1), ir.cd(2)); });
  rejects([](Ir& ir) { return ir.mavg(4, 0.9f, true); });
  rejects([](Ir& ir) { return ir.m(1.5f); });                              // beta out of range
}

TEST_CASE("printer: a drop used twice prints twice, lowering gives both the same mask again") {
  nos::dsl::Rule rule = nos::dsl::parse_rule("drop(g, 0.5) * (drop(g, 0.5) + 1)");
  Function f = optimize(lower(rule));
  int drops = 0;
  for (const Instr& in : f.body) drops += in.op == Op::Drop;
  CHECK(drops == 1);
  CHECK(to_text(f) == "drop(g, 0.5) * (drop(g, 0.5) + 1)");
  CHECK(canonical_hash(optimize(lower(nos::dsl::parse_rule(to_text(f))))) == canonical_hash(f));
}

TEST_CASE("printer: to_text of an optimized rule parses and lowers back to the same IR") {
  const char* const rules[] = {
      "g", "adam", "rmsprop", "exp(sign(g) * sign(m)) * g", "(1 + cd * sign(g) * sign(m)) * g",
      "(exp(sign(g) * sign(m)) + clip(g, 1e-4)) * g", "drop(m, 0.3) * exp(w)", "g + drop(m, 0.3)",
      "drop(drop(g, 0.1), 0.5) + drop(m, 0.3)", "g3 * -3 + 2^-g", "(-3) ^ g", "-g^2", "g ^ m ^ v", "(g ^ m) ^ v",
      "noise + eps", "2 * eps + eps with eps_sigma = 1", "m + v with beta1 = 0.95, bias_correction = off",
      "ld * cd * rd with cd_n = 2, rd_n = 3", "div(g, v, 1e-3)", "g - (m - v) / y", "exp(100) * g",
      "(log(0) - log(0)) * g", "keep(g, v) + w4", "sign(-g) * -1", "-(g * m) * -0",
  };
  for (const char* rule : rules) {
    Function once = optimize(lower(nos::dsl::parse_rule(rule)));
    std::string text = to_text(once);
    Function twice = optimize(lower(nos::dsl::parse_rule(text)));
    CHECK_MESSAGE(twice == once, rule << " printed as " << text << "\n" << dump(once) << dump(twice));
  }
}
