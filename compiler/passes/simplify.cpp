// simplify: applies the rewrite table (rewrite_rules.cpp) until nothing matches.
//
// Why: lowering expands operands through their vocabulary definitions and the token form samples
// id, keep and double negations freely, so raw rules carry work a kernel should not do. Removing
// it here makes the kernels faster and lets rules that differ only by such noise hash the same.
//
// The rebuild is bottom-up: every instruction is matched after its arguments are final, and
// every instruction a replacement builds goes through the same matcher, so one sweep normally
// reaches the fixed point; the outer loop only guards against a rule enabling another above it.
#include <cstddef>
#include <stdexcept>
#include <string>

#include "compiler/passes.h"
#include "compiler/passes/graph.h"
#include "compiler/passes/rewrite.h"

namespace nos::ir {
namespace {

using rewrite::Match;
using rewrite::Pattern;

// A replacement is at most as deep as the table's right-hand sides; this bound only stops a
// (buggy) cyclic pair of rules from recursing forever.
constexpr int kMaxRewriteDepth = 64;
constexpr int kMaxSweeps = 8;

class Simplifier {
 public:
  explicit Simplifier(const Function& in) : in_(in), builder_(out_) {
    out_.name = in.name;
    out_.states = in.states;
  }

  Function run() {
    std::vector<Value> moved(in_.body.size());
    for (std::size_t i = 0; i < in_.body.size(); ++i) {
      Instr instr = in_.body[i];
      for (int a = 0; a < arity(instr.op); ++a) instr.args[a] = moved[instr.args[a]];
      moved[i] = emit(instr, 0);
    }
    out_.result = moved[in_.result];
    return remove_dead_instructions(out_);
  }

 private:
  // Appends `instr` (arguments already in out_), or what the first matching rule makes of it.
  Value emit(const Instr& instr, int depth) {
    if (is_function(instr.op) && depth < kMaxRewriteDepth)
      for (const rewrite::RewriteRule& rule : rewrite::rewrite_rules())
        if (std::optional<Match> m = rewrite::match(rule, out_, instr)) return build(rule.after, *m, depth + 1);
    return builder_.push(instr);
  }

  Value build(const Pattern& p, const Match& m, int depth) {
    switch (p.kind) {
      case Pattern::Kind::Wildcard: return m.value[p.slot];
      case Pattern::Kind::ConstantWildcard: return m.constant_value[p.slot];
      case Pattern::Kind::Literal: return builder_.constant(p.literal);
      case Pattern::Kind::Fold: return builder_.constant(p.fold(m));
      case Pattern::Kind::Apply: break;
    }
    if (dsl::info(p.fn).extra != dsl::Extra::None)
      throw std::logic_error("rewrite rule builds " + std::string(dsl::info(p.fn).name) + " without its immediate");
    Instr instr{op_of(p.fn)};
    for (std::size_t a = 0; a < p.args.size(); ++a) instr.args[a] = build(p.args[a], m, depth);
    return emit(instr, depth);
  }

  const Function& in_;
  Function out_;
  Builder builder_;
};

}  // namespace

Function simplify(const Function& f) {
  Function current = Simplifier(f).run();
  for (int sweep = 1; sweep < kMaxSweeps; ++sweep) {
    Function next = Simplifier(current).run();
    if (next == current) break;
    current = std::move(next);
  }
  return current;
}

}  // namespace nos::ir
