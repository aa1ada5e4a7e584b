// fold_constants: replaces a function of constants by its value.
//
// Why: rule text writes constants as expressions (`-3` is neg(3), `w4` is 0.0001 * w, `exp(1)`
// is e), and the rewrite table only recognizes literal constants. Folding is exact because it
// calls the very function the interpreter calls (dsl::info(fn).eval), in float32. drop is never
// folded: its value depends on a per-element random draw, not only on its arguments.
#include "compiler/passes.h"

namespace nos::ir {
namespace {

bool foldable(const Function& f, const Instr& in) {
  if (!is_function(in.op) || draws_random(in.op)) return false;
  for (int a = 0; a < arity(in.op); ++a)
    if (f.body[in.args[a]].op != Op::Const) return false;
  return true;
}

}  // namespace

// In place, one forward sweep: arguments are folded before their users, so chains fold fully.
// Folded-away arguments stay behind as dead constants for eliminate_dead_state.
Function fold_constants(const Function& f) {
  Function out = f;
  for (Instr& in : out.body) {
    if (!foldable(out, in)) continue;
    float a = out.body[in.args[0]].imm;
    float b = arity(in.op) > 1 ? out.body[in.args[1]].imm : 0.0f;
    float value = dsl::info(fn_of(in.op)).eval(a, b, in.imm);
    in = Instr{Op::Const, Type::Step, {}, value, 0};
  }
  return out;
}

}  // namespace nos::ir
