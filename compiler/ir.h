// The IR of an update rule: a typed SSA list of elementwise operations (a DAG in topological
// order), the moving-average state it needs, and nothing else.
//
//   %0 = grad                 elem
//   %1 = sign %0              elem
//   %2 = mavg s0              elem     s0: m = mavg(g^1, beta 0.9), bias-corrected
//   ...
//   result %6
//
// Values of type `step` are the same for every element of a step (constants, decays): a code
// generator computes them once per step; `elem` values are per element. The result is the update
// direction delta of w <- w - lr * delta. Functions are values: passes return new Functions.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "dsl/vocabulary.h"

namespace nos::ir {

using dsl::Fn;
using Value = std::uint32_t;  // index of an instruction in Function::body

enum class Op : std::uint8_t {
  // Every vocabulary function, generated from the same rows as dsl::Fn (dsl/functions.def), so
  // the numbering is the same by construction and a new row is a new op.
#define NOS_FUNCTION(id, ...) id,
#include "dsl/functions.def"
  // Leaves.
  Const,   // imm: the value
  Grad,    // g
  Weight,  // w (before this step's update)
  Mavg,    // index: state slot. The slot's average after this step's update, bias-corrected if set
  Step,    // index: StepScalar kind, imm: its parameter. A per-step scalar computed on the host
  Normal,  // index: random stream. A standard normal draw per element and step
  // Made by code generation only (lower_sign_lookups), never by the lowering from DSL text:
  Lookup,  // index: Function::lookups entry. f(x) for an x that is -1, +-0, 1 or NaN, from a table
};
inline constexpr int kNumOps = static_cast<int>(Op::Lookup) + 1;

static_assert(static_cast<int>(Op::Const) == dsl::kNumFunctions, "ir::Op repeats dsl::Fn");

inline bool is_function(Op op) { return op < Op::Const; }
inline Fn fn_of(Op op) { return static_cast<Fn>(op); }
inline Op op_of(Fn fn) { return static_cast<Op>(fn); }
int arity(Op op);
const char* name(Op op);  // the vocabulary name of a function, else the leaf's: "const", "grad", ...
// Whether the op draws per-element random numbers from its own stream (`index`): normal draws and
// every function whose row asks for a uniform draw. Such ops are never folded or shared by value.
inline bool draws_random(Op op) {
  return op == Op::Normal || (is_function(op) && dsl::info(fn_of(op)).draws_random());
}

enum class Type : std::uint8_t { Step, Elem };

enum class StepScalar : std::uint8_t {
  LinearDecay,    // 1 - t/T
  CyclicalDecay,  // 0.5 (1 + cos(2 pi n t / T)), n = imm
  RestartDecay,   // 0.5 (1 + cos(pi ((t n) mod T) / T)), n = imm
  NoiseStd,       // (1 + t)^-0.275: the standard deviation of noise, variance (1 + t)^-0.55
};
const char* name(StepScalar s);

// Reserved random streams. A random function's stream (drop) is kFirstDropStream or above, derived
// from its constant probability (see lower.cpp), so equal drops share a mask, order never matters,
// and no optimization pass can change which mask a drop gets.
inline constexpr std::uint32_t kEpsStream = 0;
inline constexpr std::uint32_t kNoiseStream = 1;
inline constexpr std::uint32_t kFirstDropStream = 2;

struct Instr {
  Op op;
  Type type = Type::Elem;
  std::array<Value, 2> args{};  // the first arity(op) are used
  float imm = 0;                // Const: value; Div: delta; Step: parameter
  std::uint32_t index = 0;      // Mavg: state slot; Step: StepScalar; Normal and Drop: stream

  // Structural: imm compares by bits, so a NaN constant equals itself and -0 differs from +0.
  bool operator==(const Instr& o) const {
    return op == o.op && type == o.type && args == o.args && index == o.index &&
           std::bit_cast<std::uint32_t>(imm) == std::bit_cast<std::uint32_t>(o.imm);
  }
};

// One moving-average buffer: a <- beta a + (1 - beta) g^power, read as a / (1 - beta^t) when
// bias-corrected.
struct StateSlot {
  int power;        // 1: m, 2: v, 3: y
  float beta;
  bool bias_correction;
  bool operator==(const StateSlot&) const = default;
};
const char* state_name(int power);  // "m", "v", "y"

// The values of a function f at the only values its argument can take (a product of signs):
// Lookup(x) is x < 0 ? negative : x > 0 ? positive : x == 0 ? zero : nan.
struct LookupTable {
  float negative, zero, positive, nan;
  bool operator==(const LookupTable& o) const {
    return std::bit_cast<std::array<std::uint32_t, 4>>(*this) == std::bit_cast<std::array<std::uint32_t, 4>>(o);
  }
};

struct Function {
  std::string name;
  std::vector<Instr> body;  // topological: every argument index is smaller than its user's
  Value result = 0;
  std::vector<StateSlot> states;
  std::vector<LookupTable> lookups;  // empty until code generation lowers sign lookups
  bool operator==(const Function&) const = default;  // exact: passes compare for fixed points
};

// Appends instructions with their types inferred, so passes and the lowering build IR the same way.
class Builder {
 public:
  explicit Builder(Function& function) : f_(function) {}
  Value constant(float value);
  Value leaf(Op op, std::uint32_t index = 0, float imm = 0);
  Value apply(Fn fn, Value a, Value b = 0, float imm = 0, std::uint32_t index = 0);
  Value push(Instr instr);  // infers instr.type from the op and its arguments

 private:
  Function& f_;
};

// Checks the invariants above (argument order, slot and op ranges, types); throws std::logic_error.
void verify(const Function& f);

// Per-step inputs of a function, computed on the host once per step and shared by every backend:
// one value per Step instruction in body order, then one bias-correction factor per state slot.
struct StepInputs {
  std::vector<float> step_scalars;     // indexed by the order of Step instructions in body
  std::vector<float> bias_correction;  // per state slot: 1 / (1 - beta^t), or 1
};
StepInputs step_inputs(const Function& f, std::uint32_t t, std::uint32_t total_steps);
float step_scalar(StepScalar kind, float param, std::uint32_t t, std::uint32_t total_steps);

// Whether the rule reads T (ld, cd, rd): such a rule cannot run without a known step count.
bool needs_total_steps(const Function& f);
// Bytes read and written per parameter per step in float32: w (r+w), g (r), each state (r+w).
int bytes_per_param(const Function& f, int element_bytes = 4, int state_bytes = 4);

}  // namespace nos::ir
