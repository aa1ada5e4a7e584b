// The algebraic rewrite table, as data. Each rule is exact in IEEE float32 for every input,
// NaN and infinities included, with +0 and -0 counted as equal. (No function can tell them apart
// except div by a zero sum, and y + delta is never -0 for a delta of +0 or any nonzero delta.)
// Rules that only hold in real arithmetic (reassociation, x * 0 -> 0, x - x -> 0,
// sqrt(x)^2 -> x) are not here: each would change some result, if only an infinite or NaN one.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/passes/rewrite.h"

namespace nos::ir::rewrite {
namespace {

// ---- Pattern builders ------------------------------------------------------------------------

Pattern wildcard(int slot) { return {Pattern::Kind::Wildcard, slot}; }
Pattern constant(int slot) { return {Pattern::Kind::ConstantWildcard, slot}; }
Pattern fold(float (*compute)(const Match&)) {
  Pattern p{Pattern::Kind::Fold, 0};
  p.fold = compute;
  return p;
}

Pattern operator+(Pattern a, Pattern b) { return {Fn::Add, {std::move(a), std::move(b)}}; }
Pattern operator-(Pattern a, Pattern b) { return {Fn::Sub, {std::move(a), std::move(b)}}; }
Pattern operator*(Pattern a, Pattern b) { return {Fn::Mul, {std::move(a), std::move(b)}}; }
Pattern operator-(Pattern a) { return {Fn::Neg, {std::move(a)}}; }
Pattern id(Pattern a) { return {Fn::Id, {std::move(a)}}; }
Pattern exp(Pattern a) { return {Fn::Exp, {std::move(a)}}; }
Pattern log(Pattern a) { return {Fn::Log, {std::move(a)}}; }
Pattern sqrt(Pattern a) { return {Fn::Sqrt, {std::move(a)}}; }
Pattern sign(Pattern a) { return {Fn::Sign, {std::move(a)}}; }
Pattern clip(Pattern a, Pattern l) { return {Fn::Clip, {std::move(a), std::move(l)}}; }
Pattern drop(Pattern a, Pattern p) { return {Fn::Drop, {std::move(a), std::move(p)}}; }
Pattern pow(Pattern a, Pattern b) { return {Fn::Pow, {std::move(a), std::move(b)}}; }
Pattern keep(Pattern a, Pattern b) { return {Fn::Keep, {std::move(a), std::move(b)}}; }

// ---- Predicates and folds --------------------------------------------------------------------

// drop(x, p) zeroes when u < p for a uniform u in [0, 1): p <= 0 (or NaN) never does, p >= 1 always.
bool never_drops(const Match& m) { return !(m.constant[0] > 0); }
bool always_drops(const Match& m) { return m.constant[0] >= 1; }
// clip(x, l) compares x < -l and x > l: with l = +inf or NaN neither holds, so x passes through.
bool no_bound(const Match& m) { return !(m.constant[0] < std::numeric_limits<float>::infinity()); }
// Clamping to [-a, a] then [-b, b] is clamping to the smaller interval when both are intervals.
bool both_nonnegative(const Match& m) { return m.constant[0] >= 0 && m.constant[1] >= 0; }
float min_c0_c1(const Match& m) { return std::min(m.constant[0], m.constant[1]); }

std::vector<RewriteRule> make_table() {
  const Pattern x = wildcard(0), y = wildcard(1), c0 = constant(0), c1 = constant(1);
  // Why each is exact: x*1, x-0, neg(neg x), sign(sign x), keep, id, x-(-y), x+(-y), (-x)(-y) are
  // IEEE identities; x+0 differs only on -0; 0-x and x*-1 are -x up to the sign of zero;
  // sign(-x) = -sign(x) as sign is odd; x^1 = sign(x)|x| = x and x^0 = sign(x)*1 (powf(a, 0) = 1);
  // log and sqrt read |x|; drop's draws are counter-based, so removing one shifts no other.
  return {
      {"mul-one", x * 1, x},
      {"add-zero", x + 0, x},
      {"sub-zero", x - 0, x},
      {"zero-sub", 0 - x, -x},
      {"mul-minus-one", x * -1, -x},
      {"neg-neg", -(-x), x},
      {"neg-times-neg", -x * -y, x * y},
      {"sub-neg", x - (-y), x + y},
      {"add-neg", x + (-y), x - y},
      {"sign-sign", sign(sign(x)), sign(x)},
      {"sign-neg", sign(-x), -sign(x)},
      {"log-neg", log(-x), log(x)},
      {"sqrt-neg", sqrt(-x), sqrt(x)},
      {"exp-zero", exp(0), 1},
      {"keep", keep(x, y), x},
      {"id", id(x), x},
      {"pow-one", pow(x, 1), x},
      {"pow-zero", pow(x, 0), sign(x)},
      {"drop-never", drop(x, c0), x, never_drops},
      {"drop-always", drop(x, c0), 0, always_drops},
      {"drop-zero", drop(0, y), 0},
      {"clip-unbounded", clip(x, c0), x, no_bound},
      {"clip-clip", clip(clip(x, c0), c1), clip(x, fold(min_c0_c1)), both_nonnegative},
  };
}

// ---- Matching --------------------------------------------------------------------------------

bool match_value(const Pattern& p, const Function& f, Value v, Match& m);

bool match_instr(const Pattern& p, const Function& f, const Instr& in, Match& m) {
  if (p.kind == Pattern::Kind::Literal) return in.op == Op::Const && in.imm == p.literal;
  if (p.kind != Pattern::Kind::Apply || in.op != op_of(p.fn)) return false;
  if (p.args.size() == 1) return match_value(p.args[0], f, in.args[0], m);
  Match tried = m;
  if (match_value(p.args[0], f, in.args[0], tried) && match_value(p.args[1], f, in.args[1], tried)) {
    m = tried;
    return true;
  }
  if (!dsl::info(p.fn).commutative) return false;
  tried = m;
  if (match_value(p.args[0], f, in.args[1], tried) && match_value(p.args[1], f, in.args[0], tried)) {
    m = tried;
    return true;
  }
  return false;
}

bool match_value(const Pattern& p, const Function& f, Value v, Match& m) {
  const Instr& in = f.body.at(v);
  switch (p.kind) {
    case Pattern::Kind::Wildcard:
      if (m.value_bound[p.slot]) return m.value[p.slot] == v;
      m.value[p.slot] = v;
      m.value_bound[p.slot] = true;
      return true;
    case Pattern::Kind::ConstantWildcard:
      if (in.op != Op::Const) return false;
      if (m.constant_bound[p.slot]) return m.constant_value[p.slot] == v;
      m.constant[p.slot] = in.imm;
      m.constant_value[p.slot] = v;
      m.constant_bound[p.slot] = true;
      return true;
    case Pattern::Kind::Fold: return false;
    default: return match_instr(p, f, in, m);
  }
}

}  // namespace

std::span<const RewriteRule> rewrite_rules() {
  static const std::vector<RewriteRule> table = make_table();
  return table;
}

std::optional<Match> match(const RewriteRule& rule, const Function& f, const Instr& root) {
  Match m;
  if (!match_instr(rule.before, f, root, m)) return std::nullopt;
  if (rule.when && !rule.when(m)) return std::nullopt;
  return m;
}

}  // namespace nos::ir::rewrite
