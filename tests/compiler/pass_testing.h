// Hand-built IR for the printer and pass tests, spelled like the DSL (the tests do not depend on
// the parser or the lowering). Operands lower the way compiler/lower.cpp lowers them.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/ir.h"

namespace nos::ir::testing {

class Ir {
 public:
  explicit Ir(std::string name = "") { f_.name = std::move(name); }
  Ir(const Ir&) = delete;
  Ir& operator=(const Ir&) = delete;

  Value g() { return b_.leaf(Op::Grad); }
  Value w() { return b_.leaf(Op::Weight); }
  Value m(float beta = 0.9f, bool bias_correction = true) { return mavg(1, beta, bias_correction); }
  Value v(float beta = 0.999f, bool bias_correction = true) { return mavg(2, beta, bias_correction); }
  Value y(float beta = 0.999f, bool bias_correction = true) { return mavg(3, beta, bias_correction); }
  // Reads a slot with these contents, adding one unless it exists (or `fresh` asks for a new one).
  Value mavg(int power, float beta, bool bias_correction, bool fresh = false) {
    StateSlot slot{power, beta, bias_correction};
    std::uint32_t index = 0;
    while (index < f_.states.size() && (fresh || !(f_.states[index] == slot))) ++index;
    if (index == f_.states.size()) f_.states.push_back(slot);
    return b_.leaf(Op::Mavg, index);
  }
  Value c(float value) { return b_.constant(value); }
  Value step(StepScalar kind, float param = 0) { return b_.leaf(Op::Step, static_cast<std::uint32_t>(kind), param); }
  Value ld() { return step(StepScalar::LinearDecay); }
  Value cd(float n = 0.5f) { return step(StepScalar::CyclicalDecay, n); }
  Value rd(float n = 1.0f) { return step(StepScalar::RestartDecay, n); }
  Value normal(std::uint32_t stream) { return b_.leaf(Op::Normal, stream); }
  Value eps(float sigma = 0.01f) { return mul(c(sigma), normal(kEpsStream)); }
  Value noise() { return mul(step(StepScalar::NoiseStd), normal(kNoiseStream)); }

  Value id(Value a) { return b_.apply(Fn::Id, a); }
  Value neg(Value a) { return b_.apply(Fn::Neg, a); }
  Value exp(Value a) { return b_.apply(Fn::Exp, a); }
  Value log(Value a) { return b_.apply(Fn::Log, a); }
  Value sqrt(Value a) { return b_.apply(Fn::Sqrt, a); }
  Value sign(Value a) { return b_.apply(Fn::Sign, a); }
  Value clip(Value a, Value l) { return b_.apply(Fn::Clip, a, l); }
  Value drop(Value a, Value p) { return b_.apply(Fn::Drop, a, p, 0, next_drop_stream_++); }
  Value drop(Value a, Value p, std::uint32_t stream) { return b_.apply(Fn::Drop, a, p, 0, stream); }
  Value add(Value a, Value b) { return b_.apply(Fn::Add, a, b); }
  Value sub(Value a, Value b) { return b_.apply(Fn::Sub, a, b); }
  Value mul(Value a, Value b) { return b_.apply(Fn::Mul, a, b); }
  Value div(Value a, Value b, float delta = 1e-8f) { return b_.apply(Fn::Div, a, b, delta); }
  Value pow(Value a, Value b) { return b_.apply(Fn::Pow, a, b); }
  Value keep(Value a, Value b) { return b_.apply(Fn::Keep, a, b); }

  Function& function() { return f_; }
  // The finished function with `result` as its result; verified, so a test's IR is valid IR.
  Function done(Value result) {
    f_.result = result;
    verify(f_);
    return f_;
  }

 private:
  Function f_;
  Builder b_{f_};
  std::uint32_t next_drop_stream_ = kFirstDropStream;
};

}  // namespace nos::ir::testing
