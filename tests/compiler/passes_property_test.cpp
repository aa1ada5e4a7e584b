// Property test of the pass pipeline over random IR: every pass, and optimize() as a whole, must
// give bit-identical results (NaN equal to NaN, -0 equal to +0), valid IR, and a fixed point.
//
// The evaluator here is deliberately tiny and local (not the production interpreter): one
// float32 evaluation per instruction through dsl::info(fn).eval, random draws from dsl/random.h
// keyed by stream. A moving average's value depends on its slot's contents only (as in a real
// run, where it is a function of the gradient history), so renumbering slots cannot hide a bug.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/random.h"
#include "dsl/semantics.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

constexpr int kFunctions = 2000;
constexpr std::size_t kElements = 24;
constexpr int kHistory = 3;  // gradient steps behind each moving average

struct Inputs {
  std::vector<float> w;
  std::vector<std::vector<float>> g;  // g[k]: the gradient k steps ago; g[0] is this step's
  std::uint32_t t;
  std::uint32_t total_steps;
  std::uint64_t seed;
};

float moving_average(const StateSlot& s, const Inputs& in, std::size_t e) {
  float a = 0;
  for (int k = kHistory - 1; k >= 0; --k) {
    float x = in.g[k][e];
    float p = x;
    for (int i = 1; i < s.power; ++i) p *= x;
    a = nos_mavg(a, p, s.beta);
  }
  float correction = s.bias_correction ? static_cast<float>(1.0 / (1.0 - std::pow(double{s.beta}, kHistory))) : 1.0f;
  return a * correction;
}

std::vector<float> evaluate(const Function& f, const Inputs& in) {
  std::vector<std::vector<float>> value(f.body.size(), std::vector<float>(kElements));
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    const Instr& instr = f.body[i];
    unsigned long long key = nos_rng_key(in.seed, in.t, 0, instr.index);
    for (std::size_t e = 0; e < kElements; ++e) {
      float a = arity(instr.op) > 0 ? value[instr.args[0]][e] : 0.0f;
      float b = arity(instr.op) > 1 ? value[instr.args[1]][e] : 0.0f;
      float& out = value[i][e];
      switch (instr.op) {
        case Op::Const: out = instr.imm; break;
        case Op::Grad: out = in.g[0][e]; break;
        case Op::Weight: out = in.w[e]; break;
        case Op::Mavg: out = moving_average(f.states.at(instr.index), in, e); break;
        case Op::Step:
          out = step_scalar(static_cast<StepScalar>(instr.index), instr.imm, in.t, in.total_steps);
          break;
        case Op::Normal: out = nos_normal(key, e); break;
        case Op::Drop: out = nos_drop(a, b, nos_uniform(key, e)); break;
        default: out = nos::dsl::info(fn_of(instr.op)).eval(a, b, instr.imm); break;
      }
    }
  }
  return value[f.result];
}

bool same(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Empty when `after` computes what `before` does on every input; else the first difference.
std::string difference(const Function& before, const Function& after, const std::vector<Inputs>& inputs) {
  for (const Inputs& in : inputs) {
    std::vector<float> x = evaluate(before, in), y = evaluate(after, in);
    for (std::size_t e = 0; e < kElements; ++e)
      if (!same(x[e], y[e])) {
        std::ostringstream out;
        out.precision(9);
        out << "element " << e << ": " << x[e] << " became " << y[e] << "\nbefore:\n"
            << dump(before) << "after:\n" << dump(after);
        return out.str();
      }
  }
  return "";
}

std::size_t live_count(const Function& f) {
  std::vector<bool> live(f.body.size(), false);
  live[f.result] = true;
  std::size_t n = 0;
  for (std::size_t i = f.body.size(); i-- > 0;) {
    if (!live[i]) continue;
    ++n;
    for (int a = 0; a < arity(f.body[i].op); ++a) live[f.body[i].args[a]] = true;
  }
  return n;
}

class RandomRules {
 public:
  explicit RandomRules(std::uint64_t seed) : rng_(seed) {}

  Function function() {
    Ir ir("random");
    std::vector<Value> pool;
    const int size = uniform(1, 24);
    for (int k = 0; k < size; ++k) pool.push_back(pool.empty() || chance(0.3) ? leaf(ir) : apply(ir, pool));
    return ir.done(chance(0.8) ? pool.back() : pick(pool));
  }

  Inputs inputs() {
    Inputs in;
    in.t = static_cast<std::uint32_t>(uniform(1, 1000));
    in.total_steps = static_cast<std::uint32_t>(uniform(static_cast<int>(in.t), 2000));
    in.seed = rng_();
    for (std::size_t e = 0; e < kElements; ++e) in.w.push_back(input_value());
    in.g.resize(kHistory);
    for (auto& step : in.g)
      for (std::size_t e = 0; e < kElements; ++e) step.push_back(input_value());
    return in;
  }

 private:
  Value leaf(Ir& ir) {
    switch (uniform(0, 7)) {
      case 0: return ir.g();
      case 1: return ir.w();
      case 2: {
        static const StateSlot kSlots[] = {{1, 0.9f, true}, {2, 0.999f, true}, {3, 0.999f, true},
                                           {1, 0.5f, false}, {2, 0.99f, true}};
        const StateSlot& s = kSlots[uniform(0, 4)];
        return ir.mavg(s.power, s.beta, s.bias_correction, chance(0.15));
      }
      case 3: {
        static const float kPeriods[] = {0.5f, 1.0f, 2.0f};
        return ir.step(static_cast<StepScalar>(uniform(0, 3)), kPeriods[uniform(0, 2)]);
      }
      case 4: return ir.normal(static_cast<std::uint32_t>(uniform(0, 1)));
      case 5: return chance(0.5) ? ir.eps(chance(0.8) ? 0.01f : 1.0f) : ir.noise();
      default: return ir.c(constant());
    }
  }

  Value apply(Ir& ir, const std::vector<Value>& pool) {
    // Weighted toward the functions the rewrite table knows, so rules fire often.
    static const Fn kFns[] = {Fn::Id,  Fn::Neg, Fn::Neg,  Fn::Exp,  Fn::Log,  Fn::Sqrt, Fn::Sign, Fn::Sign,
                              Fn::Clip, Fn::Drop, Fn::Add, Fn::Add, Fn::Sub, Fn::Sub, Fn::Mul, Fn::Mul,
                              Fn::Mul, Fn::Div, Fn::Pow, Fn::Keep};
    Fn fn = kFns[uniform(0, static_cast<int>(std::size(kFns)) - 1)];
    Value a = pick(pool);
    Value b = chance(0.4) ? ir.c(constant()) : pick(pool);
    switch (fn) {
      case Fn::Div: {
        static const float kDeltas[] = {1e-8f, 1e-3f, 0.0f, 1.0f};
        return ir.div(a, b, kDeltas[uniform(0, 3)]);
      }
      case Fn::Drop: return ir.drop(a, b);
      case Fn::Clip: return ir.clip(chance(0.3) ? ir.clip(a, ir.c(constant())) : a, b);
      default: return dsl_apply(ir, fn, a, b);
    }
  }

  static Value dsl_apply(Ir& ir, Fn fn, Value a, Value b) {
    switch (fn) {
      case Fn::Id: return ir.id(a);
      case Fn::Neg: return ir.neg(a);
      case Fn::Exp: return ir.exp(a);
      case Fn::Log: return ir.log(a);
      case Fn::Sqrt: return ir.sqrt(a);
      case Fn::Sign: return ir.sign(a);
      case Fn::Add: return ir.add(a, b);
      case Fn::Sub: return ir.sub(a, b);
      case Fn::Mul: return ir.mul(a, b);
      case Fn::Pow: return ir.pow(a, b);
      case Fn::Keep: return ir.keep(a, b);
      default: return ir.add(a, b);
    }
  }

  float constant() {
    static const float kCommon[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, 0.5f, 1e-4f, 1e-8f, 0.3f, -2.5f, 3.0f, 100.0f};
    static const float kRare[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN(), 1e30f, -1e-30f};
    if (chance(0.05)) return kRare[uniform(0, 4)];
    return kCommon[uniform(0, static_cast<int>(std::size(kCommon)) - 1)];
  }

  float input_value() {
    switch (uniform(0, 9)) {
      case 0: return 0.0f;
      case 1: return -0.0f;
      case 2: return chance(0.5) ? 1e30f : -1e-30f;
      case 3: return chance(0.5) ? 1.0f : -1.0f;
      default: return std::normal_distribution<float>(0.0f, 2.0f)(rng_);
    }
  }

  Value pick(const std::vector<Value>& pool) {
    // Recent values more often, so functions grow deep rather than wide.
    const int last = static_cast<int>(pool.size()) - 1;
    return pool[static_cast<std::size_t>(chance(0.5) ? last - uniform(0, std::min(2, last)) : uniform(0, last))];
  }

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("passes: random rules keep their results bit for bit, and optimize() is a fixed point") {
  RandomRules random(20240611);
  int rewritten = 0, slots_removed = 0;
  for (int n = 0; n < kFunctions; ++n) {
    Function f = random.function();
    std::vector<Inputs> inputs = {random.inputs(), random.inputs()};
    INFO("random function #" << n << ":\n" << dump(f));

    using Pass = Function (*)(const Function&);
    for (Pass pass : {Pass{fold_constants}, Pass{simplify}, Pass{eliminate_common_subexpressions},
                      Pass{eliminate_dead_state}, Pass{canonicalize}}) {
      Function out = pass(f);
      REQUIRE_NOTHROW(verify(out));
      std::string diff = difference(f, out, inputs);
      REQUIRE_MESSAGE(diff.empty(), diff);
    }

    std::vector<PassRecord> trace;
    Function opt = optimize(f, &trace);
    REQUIRE_NOTHROW(verify(opt));
    std::string diff = difference(f, opt, inputs);
    REQUIRE_MESSAGE(diff.empty(), diff);
    CHECK(live_count(opt) <= live_count(f));
    CHECK(bytes_per_param(opt) <= bytes_per_param(f));

    Function again = optimize(opt);
    REQUIRE_MESSAGE(again == opt, "not a fixed point:\n" << dump(opt) << "again:\n" << dump(again));
    CHECK(canonical_hash(again) == canonical_hash(opt));
    CHECK(canonical_hash(canonicalize(f)) == canonical_hash(canonicalize(canonicalize(f))));

    rewritten += live_count(opt) < live_count(f);
    slots_removed += opt.states.size() < f.states.size();
  }
  // The generator must exercise the passes, or this test proves nothing.
  CHECK(rewritten > kFunctions / 4);
  CHECK(slots_removed > kFunctions / 20);
}
