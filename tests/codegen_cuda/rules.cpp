#include "rules.h"

#include <cmath>
#include <limits>
#include <random>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "dsl/parser.h"
#include "dsl/tokens.h"

namespace nos::test {

using ir::Builder;
using ir::Fn;
using ir::Op;

TestRule compile_text(const std::string& text) {
  return {text, ir::optimize(ir::lower(dsl::parse_rule(text)))};
}

std::vector<TestRule> named_rules() {
  std::vector<TestRule> rules;
  for (const char* text : {
           "g",
           "adam",
           "rmsprop",
           "exp(sign(g) * sign(m)) * g",                 // PowerSign
           "exp(ld * sign(g) * sign(m)) * g",            // PowerSign-ld
           "(1 + sign(g) * sign(m)) * g",                // AddSign
           "(1 + cd * sign(g) * sign(m)) * g",           // AddSign-cd
           "(exp(sign(g) * sign(m)) + clip(g, 0.0001)) * g",
           "drop(m, 0.3) * exp(w)",
           "g + drop(m, 0.3)",
           "g + eps",
           "g + noise",
           "ld * g + rd * m - cd * v",
           "clip(m, 0.001) / (sqrt(v) + y)",
           "pow(g, 2) + m ^ 0.5 + pow(y, sign_g)",
           "log(g) * log(v) - sqrt(g3)",
           "drop(g, 0.1) + drop(m, 0.5) * drop(g2, 0.3)",
           "neg(g) * 1e-4 + w4 - w1",
           "div(g, sqrt(v), 0.5) with beta2 = 0.99, bias_correction = off",
           "exp(g * 100)",                               // overflows to inf
           "log(g - g)",                                 // -inf
       })
    rules.push_back(compile_text(text));
  return rules;
}

std::vector<TestRule> unoptimized_rules() {
  std::vector<TestRule> rules;
  {  // A dead Step before a live one: the live one must still read its own ir::StepInputs slot.
    ir::Function f;
    f.name = "dead_step";
    f.states = {{1, 0.9f, true}, {2, 0.99f, false}, {3, 0.5f, true}};  // slot 2 is updated, never read
    Builder b(f);
    b.leaf(Op::Step, static_cast<std::uint32_t>(ir::StepScalar::CyclicalDecay), 0.5f);
    ir::Value rd = b.leaf(Op::Step, static_cast<std::uint32_t>(ir::StepScalar::RestartDecay), 2.0f);
    ir::Value v = b.leaf(Op::Mavg, 1);
    ir::Value m = b.leaf(Op::Mavg, 0);
    ir::Value e = b.apply(Fn::Exp, rd);                    // step-typed, not constant
    f.result = b.apply(Fn::Add, b.apply(Fn::Mul, e, m), v);
    rules.push_back({"dead_step (built)", f});
  }
  {  // Non-finite constants and a step-typed result.
    ir::Function f;
    f.name = "non_finite";
    Builder b(f);
    ir::Value inf = b.constant(std::numeric_limits<float>::infinity());
    ir::Value nan = b.constant(-std::numeric_limits<float>::quiet_NaN());
    ir::Value ld = b.leaf(Op::Step, static_cast<std::uint32_t>(ir::StepScalar::LinearDecay));
    f.result = b.apply(Fn::Add, b.apply(Fn::Clip, ld, inf), b.apply(Fn::Mul, nan, b.constant(0)));
    rules.push_back({"non_finite (built)", f});
  }
  {  // Normal leaves on both reserved streams and a drop on a high stream, with duplicate reads.
    ir::Function f;
    f.name = "streams";
    Builder b(f);
    ir::Value n1 = b.leaf(Op::Normal, ir::kNoiseStream);
    ir::Value n0 = b.leaf(Op::Normal, ir::kEpsStream);
    ir::Value d = b.apply(Fn::Drop, b.leaf(Op::Grad), b.constant(0.5f), 0, ir::kFirstDropStream + 7);
    ir::Value sum = b.apply(Fn::Add, b.apply(Fn::Sub, n1, n0), d);
    f.result = b.apply(Fn::Div, sum, b.leaf(Op::Weight), 1e-3f);
    rules.push_back({"streams (built)", f});
  }
  {  // A constant rule: delta is step-typed and constant.
    ir::Function f;
    f.name = "constant";
    Builder b(f);
    f.result = b.constant(0.25f);
    rules.push_back({"constant (built)", f});
  }
  for (TestRule& r : rules) ir::verify(r.f);
  return rules;
}

std::vector<TestRule> random_rules(std::uint64_t seed, int count, int min_groups, int max_groups) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> groups(min_groups, max_groups);
  std::vector<TestRule> rules;
  for (int k = 0; k < count; ++k) {
    dsl::TokenSequence tokens = dsl::random_tokens(rng, groups(rng));
    std::string label = dsl::print_tokens(tokens);
    rules.push_back({label, ir::optimize(ir::lower(dsl::to_rule(tokens, "r" + std::to_string(k))))});
  }
  return rules;
}

}  // namespace nos::test
