// The per-rule host+device functions of cuda_codegen.h: the IR, one statement per instruction, each a
// call of the vocabulary's c_function (semantics.h), in the interpreter's order of operations.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/prelude.h"
#include "compiler/passes.h"

namespace nos::codegen::cuda {
namespace {

using ir::Instr;
using ir::Op;
using ir::Type;
using ir::Value;

// An exact float literal: hex floats round-trip every finite float; inf and NaN (which constant
// folding can produce) keep their bits through semantics.h's nos_from_bits. Zero is spelled out
// because fmt versions differ in its hex exponent (0x0p+0 vs 0x0p-1022).
std::string float_literal(float x) {
  if (x == 0.0f) return std::signbit(x) ? "-0.0f" : "0.0f";
  if (std::isfinite(x)) return fmt::format("{:a}f", static_cast<double>(x));
  return fmt::format("nos_from_bits(0x{:08X}u)", std::bit_cast<std::uint32_t>(x));
}

std::string comment_number(float x) { return fmt::format("{:.9g}", static_cast<double>(x)); }

std::string var(Value v) { return "v" + std::to_string(v); }

void check_symbol(std::string_view symbol) {
  bool ok = !symbol.empty() && !std::isdigit(static_cast<unsigned char>(symbol[0]));
  for (char c : symbol) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw std::invalid_argument("CUDA codegen: '" + std::string(symbol) + "' is not a C identifier");
}

// What the generated functions need to know about the IR, computed once.
class RuleLayout {
 public:
  explicit RuleLayout(const ir::Function& f) : f_(f), live_(f.body.size(), false), sv_index_(f.body.size(), -1),
                                               step_input_(f.body.size(), -1) {
    ir::verify(f);
    if (f.states.size() > static_cast<std::size_t>(kMaxStateSlots))
      throw std::invalid_argument("CUDA codegen: rule '" + f.name + "' has " + std::to_string(f.states.size()) +
                                  " state slots, the kernel ABI holds " + std::to_string(kMaxStateSlots));
    for (std::size_t k = 0; k < f.body.size(); ++k)
      if (f.body[k].op == Op::Step) step_input_[k] = num_step_inputs_++;  // ir::StepInputs order: every Step
    if (num_step_inputs_ + f.states.size() > static_cast<std::size_t>(kMaxStepInputs))
      throw std::invalid_argument("CUDA codegen: rule '" + f.name + "' needs " +
                                  std::to_string(num_step_inputs_ + f.states.size()) +
                                  " step inputs, the kernel ABI holds " + std::to_string(kMaxStepInputs));
    mark_live();
    assign_step_values();
    collect_streams();
  }

  const ir::Function& f() const { return f_; }
  bool live(Value v) const { return live_[v]; }
  int sv_index(Value v) const { return sv_index_[v]; }
  int step_input(Value v) const { return step_input_[v]; }
  int num_step_inputs() const { return num_step_inputs_; }
  int num_step_values() const { return static_cast<int>(sv_sources_.size() + bias_slots_.size()); }
  const std::vector<Value>& sv_sources() const { return sv_sources_; }
  const std::vector<std::uint32_t>& bias_slots() const { return bias_slots_; }
  int bias_sv(std::uint32_t slot) const { return bias_sv_[slot]; }
  const std::vector<std::uint32_t>& streams() const { return streams_; }
  int key_index(std::uint32_t stream) const {
    return static_cast<int>(std::find(streams_.begin(), streams_.end(), stream) - streams_.begin());
  }

 private:
  // Only what reaches the result is emitted (dead code has no effect on w or the states).
  void mark_live() {
    live_[f_.result] = true;
    for (std::size_t k = f_.body.size(); k-- > 0;)
      if (live_[k])
        for (int a = 0; a < ir::arity(f_.body[k].op); ++a) live_[f_.body[k].args[a]] = true;
  }

  // sv[]: the step-typed, non-constant values a live element instruction reads (or the result),
  // then the bias correction of each slot a live mavg reads.
  void assign_step_values() {
    auto cross = [&](Value v) {
      const Instr& in = f_.body[v];
      if (in.type == Type::Step && in.op != Op::Const && sv_index_[v] < 0) {
        sv_index_[v] = static_cast<int>(sv_sources_.size());
        sv_sources_.push_back(v);
      }
    };
    for (std::size_t k = 0; k < f_.body.size(); ++k)
      if (live_[k] && f_.body[k].type == Type::Elem)
        for (int a = 0; a < ir::arity(f_.body[k].op); ++a) cross(f_.body[k].args[a]);
    cross(f_.result);
    bias_sv_.assign(f_.states.size(), -1);
    for (std::size_t k = 0; k < f_.body.size(); ++k) {
      const Instr& in = f_.body[k];
      if (!live_[k] || in.op != Op::Mavg || bias_sv_[in.index] >= 0) continue;
      bias_sv_[in.index] = static_cast<int>(sv_sources_.size() + bias_slots_.size());
      bias_slots_.push_back(in.index);
    }
  }

  // The random streams live instructions draw from, sorted: key[j] is streams_[j]'s key.
  void collect_streams() {
    for (std::size_t k = 0; k < f_.body.size(); ++k)
      if (live_[k] && draws_random(f_.body[k].op)) streams_.push_back(f_.body[k].index);
    std::sort(streams_.begin(), streams_.end());
    streams_.erase(std::unique(streams_.begin(), streams_.end()), streams_.end());
  }

  const ir::Function& f_;
  std::vector<bool> live_;
  std::vector<int> sv_index_;    // per instruction: its index in sv[], or -1
  std::vector<int> step_input_;  // per Step instruction: its index in KernelStep::inputs
  int num_step_inputs_ = 0;
  std::vector<Value> sv_sources_;
  std::vector<std::uint32_t> bias_slots_;
  std::vector<int> bias_sv_;
  std::vector<std::uint32_t> streams_;
};

// An argument as the emitted code reads it: constants inline as exact literals.
std::string operand(const ir::Function& f, Value v) {
  const Instr& in = f.body[v];
  return in.op == Op::Const ? float_literal(in.imm) : var(v);
}

// The right-hand side of a vocabulary function: c_function(args...), with div's delta and drop's
// uniform draw (from the drop's own stream) as the extra argument.
std::string call(const RuleLayout& layout, Value v) {
  const ir::Function& f = layout.f();
  const Instr& in = f.body[v];
  if (in.op == Op::Lookup) {
    const ir::LookupTable& t = f.lookups.at(in.index);
    return "nos_sign_lookup(" + operand(f, in.args[0]) + ", " + float_literal(t.negative) + ", " +
           float_literal(t.zero) + ", " + float_literal(t.positive) + ", " + float_literal(t.nan) + ")";
  }
  const dsl::FunctionInfo& fn = dsl::info(ir::fn_of(in.op));
  std::string text = std::string(fn.c_function) + "(" + operand(f, in.args[0]);
  if (fn.arity > 1) text += ", " + operand(f, in.args[1]);
  switch (fn.extra) {
    case dsl::Extra::None: break;
    case dsl::Extra::Delta: text += ", " + float_literal(in.imm); break;
    case dsl::Extra::Uniform:
      text += ", nos_uniform(key[" + std::to_string(layout.key_index(in.index)) + "], i)";
      break;
  }
  return text + ")";
}

std::string step_function(const RuleLayout& layout, const std::string& symbol) {
  const ir::Function& f = layout.f();
  std::string s = "// Values the same for every element of a step, computed once per thread from KernelStep::inputs.\n";
  s += "NOS_HD void " + symbol + "_step(const float* in, float* sv) {\n  (void)in; (void)sv;\n";
  // Every step-typed instruction some crossing value depends on, in body order.
  std::vector<bool> needed(f.body.size(), false);
  for (Value v : layout.sv_sources()) needed[v] = true;
  for (std::size_t k = f.body.size(); k-- > 0;)
    if (needed[k])
      for (int a = 0; a < ir::arity(f.body[k].op); ++a) needed[f.body[k].args[a]] = true;
  for (std::size_t k = 0; k < f.body.size(); ++k) {
    const Instr& in = f.body[k];
    if (!needed[k] || in.op == Op::Const) continue;
    if (in.op == Op::Step)
      s += "  const float " + var(k) + " = in[" + std::to_string(layout.step_input(k)) + "];  // " +
           ir::name(static_cast<ir::StepScalar>(in.index)) + "\n";
    else
      s += "  const float " + var(k) + " = " + call(layout, k) + ";\n";
  }
  for (Value v : layout.sv_sources()) s += "  sv[" + std::to_string(layout.sv_index(v)) + "] = " + var(v) + ";\n";
  for (std::uint32_t slot : layout.bias_slots())
    s += "  sv[" + std::to_string(layout.bias_sv(slot)) + "] = in[" + std::to_string(layout.num_step_inputs() + slot) +
         "];  // bias correction of slot " + std::to_string(slot) + "\n";
  return s + "}\n\n";
}

std::string keys_function(const RuleLayout& layout, const std::string& symbol) {
  std::string s = "// One key per random stream, computed once per chunk (dsl/random.h).\n";
  s += "NOS_HD void " + symbol +
       "_keys(unsigned long long seed, unsigned int t, unsigned int tensor, unsigned long long* key) {\n"
       "  (void)seed; (void)t; (void)tensor; (void)key;\n";
  for (std::size_t j = 0; j < layout.streams().size(); ++j)
    s += "  key[" + std::to_string(j) + "] = nos_rng_key(seed, t, tensor, " + std::to_string(layout.streams()[j]) +
         "u);\n";
  return s + "}\n\n";
}

std::string element_function(const RuleLayout& layout, const std::string& symbol) {
  const ir::Function& f = layout.f();
  std::string s =
      "// One element: updates the state slots st[] in place, then returns w - lr * delta.\n"
      "NOS_HD float " + symbol +
      "_element(const float* sv, const unsigned long long* key, float lr, float w, float g, float* st,\n"
      "    unsigned long long i) {\n"
      "  (void)sv; (void)key; (void)w; (void)g; (void)st; (void)i;\n";
  // Every slot is updated, read or not, as the interpreter does; g^p is g, g*g, (g*g)*g.
  for (std::size_t slot = 0; slot < f.states.size(); ++slot) {
    const ir::StateSlot& state = f.states[slot];
    std::string power = "g";
    for (int p = 1; p < state.power; ++p) power = (p > 1 ? "(" + power + ")" : power) + " * g";
    std::string st = "st[" + std::to_string(slot) + "]";
    s += "  " + st + " = nos_mavg(" + st + ", " + power + ", " + float_literal(state.beta) + ");  // " +
         ir::state_name(state.power) + ", beta " + comment_number(state.beta) + "\n";
  }
  for (std::size_t k = 0; k < f.body.size(); ++k) {
    const Instr& in = f.body[k];
    if (layout.sv_index(k) >= 0) {
      s += "  const float " + var(k) + " = sv[" + std::to_string(layout.sv_index(k)) + "];\n";
      continue;
    }
    if (!layout.live(k) || in.type != Type::Elem) continue;
    std::string rhs;
    switch (in.op) {
      case Op::Grad: rhs = "g"; break;
      case Op::Weight: rhs = "w"; break;
      case Op::Mavg:
        rhs = "st[" + std::to_string(in.index) + "] * sv[" + std::to_string(layout.bias_sv(in.index)) + "]";
        break;
      case Op::Normal: rhs = "nos_normal(key[" + std::to_string(layout.key_index(in.index)) + "], i)"; break;
      default: rhs = call(layout, k);
    }
    s += "  const float " + var(k) + " = " + rhs + ";\n";
  }
  return s + "  return w - lr * " + operand(f, f.result) + ";\n}\n";
}

}  // namespace

std::string host_device_prelude() {
  std::string s = "// ---- dsl/semantics.h ----\n";
  s += semantics_source();
  s += "\n// ---- dsl/random.h ----\n";
  s += random_source();
  return s;
}

RuleCode rule_functions(const ir::Function& rule, std::string_view symbol) {
  check_symbol(symbol);
  const ir::Function f = ir::lower_sign_lookups(rule);
  RuleLayout layout(f);
  std::string sym(symbol);
  RuleCode code;
  code.step_values = layout.num_step_values();
  code.streams = static_cast<int>(layout.streams().size());
  code.source = "\n// ---- rule '" + f.name + "' as " + sym + " ----\n";
  code.source += "enum : int { " + sym + "_step_values = " + std::to_string(code.step_values) + ", " + sym +
                 "_streams = " + std::to_string(code.streams) + " };\n\n";
  code.source += step_function(layout, sym);
  code.source += keys_function(layout, sym);
  code.source += element_function(layout, sym);
  return code;
}

}  // namespace nos::codegen::cuda
