#include "compiler/ir.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nos::ir {

int arity(Op op) {
  if (is_function(op)) return dsl::info(fn_of(op)).arity;
  return op == Op::Lookup ? 1 : 0;
}

const char* name(Op op) {
  switch (op) {
    case Op::Const: return "const";
    case Op::Grad: return "grad";
    case Op::Weight: return "weight";
    case Op::Mavg: return "mavg";
    case Op::Step: return "step";
    case Op::Normal: return "normal";
    case Op::Lookup: return "lookup";
    default: return dsl::info(fn_of(op)).name.data();
  }
}

const char* name(StepScalar s) {
  switch (s) {
    case StepScalar::LinearDecay: return "ld";
    case StepScalar::CyclicalDecay: return "cd";
    case StepScalar::RestartDecay: return "rd";
    case StepScalar::NoiseStd: return "noise_std";
  }
  return "?";
}

const char* state_name(int power) { return power == 1 ? "m" : power == 2 ? "v" : power == 3 ? "y" : "?"; }

Value Builder::constant(float value) { return push({Op::Const, Type::Step, {}, value, 0}); }

Value Builder::leaf(Op op, std::uint32_t index, float imm) { return push({op, Type::Elem, {}, imm, index}); }

Value Builder::apply(Fn fn, Value a, Value b, float imm, std::uint32_t index) {
  return push({op_of(fn), Type::Elem, {a, dsl::info(fn).arity > 1 ? b : 0}, imm, index});
}

Value Builder::push(Instr instr) {
  switch (instr.op) {
    case Op::Const:
    case Op::Step: instr.type = Type::Step; break;
    case Op::Grad:
    case Op::Weight:
    case Op::Mavg:
    case Op::Normal: instr.type = Type::Elem; break;
    default: {
      if (draws_random(instr.op)) {
        instr.type = Type::Elem;
        break;
      }
      instr.type = Type::Step;
      for (int i = 0; i < arity(instr.op); ++i)
        if (f_.body.at(instr.args[i]).type == Type::Elem) instr.type = Type::Elem;
    }
  }
  for (int i = arity(instr.op); i < 2; ++i) instr.args[i] = 0;
  f_.body.push_back(instr);
  return static_cast<Value>(f_.body.size() - 1);
}

void verify(const Function& f) {
  auto fail = [&](std::size_t i, const std::string& what) {
    throw std::logic_error("IR of '" + f.name + "' is invalid at %" + std::to_string(i) + ": " + what);
  };
  if (f.body.empty()) throw std::logic_error("IR of '" + f.name + "' has no instructions");
  if (f.result >= f.body.size()) fail(f.result, "result out of range");
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    const Instr& in = f.body[i];
    if (static_cast<int>(in.op) >= kNumOps) fail(i, "unknown op");
    bool elem = false;
    for (int a = 0; a < arity(in.op); ++a) {
      if (in.args[a] >= i) fail(i, "argument %" + std::to_string(in.args[a]) + " is not defined before use");
      elem |= f.body[in.args[a]].type == Type::Elem;
    }
    if (in.op == Op::Mavg && in.index >= f.states.size()) fail(i, "state slot out of range");
    if (in.op == Op::Lookup && in.index >= f.lookups.size()) fail(i, "lookup table out of range");
    if (in.op == Op::Step && in.index > static_cast<int>(StepScalar::NoiseStd)) fail(i, "unknown step scalar");
    Type expected = (in.op == Op::Const || in.op == Op::Step) ? Type::Step
                    : ((is_function(in.op) || in.op == Op::Lookup) && !draws_random(in.op) && !elem) ? Type::Step
                                                                          : Type::Elem;
    if (in.type != expected) fail(i, "wrong type");
  }
}

float step_scalar(StepScalar kind, float param, std::uint32_t t, std::uint32_t total_steps) {
  const double pi = 3.14159265358979323846;
  double T = total_steps == 0 ? 1.0 : static_cast<double>(total_steps);
  double step = static_cast<double>(t);
  switch (kind) {
    case StepScalar::LinearDecay: return static_cast<float>(1.0 - step / T);
    case StepScalar::CyclicalDecay: return static_cast<float>(0.5 * (1.0 + std::cos(2.0 * pi * param * step / T)));
    case StepScalar::RestartDecay: return static_cast<float>(0.5 * (1.0 + std::cos(pi * std::fmod(step * param, T) / T)));
    case StepScalar::NoiseStd: return static_cast<float>(std::pow(1.0 + step, -0.275));
  }
  return 0;
}

StepInputs step_inputs(const Function& f, std::uint32_t t, std::uint32_t total_steps) {
  StepInputs in;
  for (const Instr& i : f.body)
    if (i.op == Op::Step) in.step_scalars.push_back(step_scalar(static_cast<StepScalar>(i.index), i.imm, t, total_steps));
  for (const StateSlot& s : f.states)
    in.bias_correction.push_back(
        s.bias_correction ? static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(s.beta), t))) : 1.0f);
  return in;
}

bool needs_total_steps(const Function& f) {
  for (const Instr& i : f.body)
    if (i.op == Op::Step && static_cast<StepScalar>(i.index) != StepScalar::NoiseStd) return true;
  return false;
}

int bytes_per_param(const Function& f, int element_bytes, int state_bytes) {
  return 3 * element_bytes + 2 * state_bytes * static_cast<int>(f.states.size());
}

}  // namespace nos::ir
