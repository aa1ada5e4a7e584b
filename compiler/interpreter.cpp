#include "compiler/interpreter.h"

#include <stdexcept>

#include "dsl/random.h"
#include "dsl/semantics.h"

namespace nos::ir {
namespace {

// g^power exactly as every backend computes it: g, g*g, (g*g)*g.
float power_of(float g, int power) {
  float p = g;
  for (int i = 1; i < power; ++i) p = p * g;
  return p;
}

}  // namespace

std::vector<float> interpret_delta(const Function& f, const StepContext& ctx, const float* w,
                                   const float* g, std::span<float* const> states, std::size_t n) {
  if (states.size() < f.states.size()) throw std::invalid_argument("interpret: missing state buffers");
  const StepInputs inputs = ctx.inputs ? *ctx.inputs : step_inputs(f, ctx.t, ctx.total_steps);

  // Update every state slot first: mavg reads this step's average.
  for (std::size_t s = 0; s < f.states.size(); ++s)
    for (std::size_t i = 0; i < n; ++i)
      states[s][i] = nos_mavg(states[s][i], power_of(g[i], f.states[s].power), f.states[s].beta);

  // values[k] holds instruction k over all elements; step-typed values hold one element.
  std::vector<std::vector<float>> values(f.body.size());
  std::size_t next_step_scalar = 0;
  for (std::size_t k = 0; k < f.body.size(); ++k) {
    const Instr& in = f.body[k];
    std::size_t count = in.type == Type::Step ? 1 : n;
    std::vector<float>& out = values[k];
    out.resize(count);
    auto arg = [&](int a, std::size_t i) {
      const std::vector<float>& v = values[in.args[a]];
      return v.size() == 1 ? v[0] : v[i];
    };
    switch (in.op) {
      case Op::Const: out[0] = in.imm; break;
      case Op::Step: out[0] = inputs.step_scalars.at(next_step_scalar++); break;
      case Op::Grad: out.assign(g, g + n); break;
      case Op::Weight: out.assign(w, w + n); break;
      case Op::Mavg: {
        float bc = inputs.bias_correction.at(in.index);
        for (std::size_t i = 0; i < n; ++i) out[i] = states[in.index][i] * bc;
        break;
      }
      case Op::Normal: {
        unsigned long long key = nos_rng_key(ctx.seed, ctx.t, ctx.tensor, in.index);
        for (std::size_t i = 0; i < n; ++i) out[i] = nos_normal(key, i);
        break;
      }
      case Op::Lookup: {
        const LookupTable& t = f.lookups.at(in.index);
        for (std::size_t i = 0; i < count; ++i) out[i] = nos_sign_lookup(arg(0, i), t.negative, t.zero, t.positive, t.nan);
        break;
      }
      default: {
        const dsl::FunctionInfo& fn = dsl::info(fn_of(in.op));
        if (fn.draws_random()) {  // the extra argument is this element's uniform draw
          unsigned long long key = nos_rng_key(ctx.seed, ctx.t, ctx.tensor, in.index);
          for (std::size_t i = 0; i < count; ++i)
            out[i] = fn.eval(arg(0, i), fn.arity > 1 ? arg(1, i) : 0.0f, nos_uniform(key, i));
          break;
        }
        for (std::size_t i = 0; i < count; ++i)
          out[i] = fn.eval(arg(0, i), fn.arity > 1 ? arg(1, i) : 0.0f, in.imm);
      }
    }
  }
  const std::vector<float>& result = values[f.result];
  if (result.size() == n) return result;
  return std::vector<float>(n, result[0]);
}

void interpret_step(const Function& f, const StepContext& ctx, float* w, const float* g,
                    std::span<float* const> states, std::size_t n) {
  std::vector<float> delta = interpret_delta(f, ctx, w, g, states, n);
  for (std::size_t i = 0; i < n; ++i) w[i] = w[i] - ctx.lr * delta[i];
}

}  // namespace nos::ir
