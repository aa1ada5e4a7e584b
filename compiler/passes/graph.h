// Small graph helpers the passes share (private to compiler/passes/).
#pragma once

#include <vector>

#include "compiler/ir.h"

namespace nos::ir {

// Which instructions the result reaches (indexed like f.body).
std::vector<bool> live_instructions(const Function& f);

// f without the instructions the result does not reach, in the same order; state slots untouched.
Function remove_dead_instructions(const Function& f);

// The Instr fields an op reads: the rest are don't-cares that must not split equal instructions.
inline bool reads_imm(Op op) { return op == Op::Const || op == Op::Div || op == Op::Step; }
inline bool reads_index(Op op) {
  return op == Op::Mavg || op == Op::Step || op == Op::Lookup || draws_random(op);
}

// `in` with its don't-care fields zeroed.
inline Instr without_dont_cares(Instr in) {
  if (!reads_imm(in.op)) in.imm = 0;
  if (!reads_index(in.op)) in.index = 0;
  for (int a = arity(in.op); a < 2; ++a) in.args[a] = 0;
  return in;
}

}  // namespace nos::ir
