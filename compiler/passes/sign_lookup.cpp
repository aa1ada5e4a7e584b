// Sign lookups: a costly function of a product of signs becomes a table of its four values.
//
// PowerSign's exp(sign(g) * sign(m)) costs an exp per element, yet its argument is always -1, 0, 1
// or NaN: the kernel can pick among exp(-1), exp(0), exp(1) and NaN with three compares, which
// keeps the rule as bound by memory as sgd. The tables are computed with the interpreter's own
// functions at those exact arguments, so the result is bit-identical (NaN payloads aside).
//
// A value is "signed" when it can only be -1, -0, +0, 1 or NaN: sign(x), -s, s1 * s2. An element
// instruction whose only varying input is one signed value r, through exp, log, pow, div or sqrt
// (cheap ones are not worth a table), becomes Lookup(r) when f(-0) and f(+0) agree; where r is
// sign(x) the lookup reads x itself, as both classify x the same way.
#include <bit>
#include <cstdint>
#include <limits>
#include <optional>

#include "compiler/passes.h"
#include "compiler/passes/graph.h"

namespace nos::ir {
namespace {

constexpr Value kNone = std::numeric_limits<Value>::max();

bool is_costly(Op op) { return is_function(op) && dsl::info(fn_of(op)).cost == dsl::Cost::Costly; }

class SignLookups {
 public:
  explicit SignLookups(const Function& f)
      : f_(f), is_signed_(f.body.size(), false), root_(f.body.size(), kNone), costly_(f.body.size(), false) {
    for (Value k = 0; k < f.body.size(); ++k) classify(k);
  }

  Function run() {
    std::vector<std::uint32_t> users_outside(f_.body.size(), 0);  // users not sharing the root
    for (Value k = 0; k < f_.body.size(); ++k)
      for (int a = 0; a < arity(f_.body[k].op); ++a) {
        Value arg = f_.body[k].args[a];
        if (root_[arg] != kNone && root_[arg] != root_[k]) ++users_outside[arg];
      }
    Function out = f_;
    for (Value k = 0; k < f_.body.size(); ++k) {
      bool outermost = users_outside[k] > 0 || k == f_.result;
      if (!outermost || !costly_[k] || root_[k] == k || root_[k] == kNone) continue;
      std::optional<LookupTable> table = tabulate(k);
      if (!table) continue;
      Value input = root_[k];
      if (f_.body[input].op == Op::Sign) input = f_.body[input].args[0];
      out.body[k] = Instr{Op::Lookup, Type::Elem, {input, 0}, 0, static_cast<std::uint32_t>(out.lookups.size())};
      out.lookups.push_back(*table);
    }
    if (out.lookups.empty()) return f_;
    return remove_dead_instructions(out);
  }

 private:
  void classify(Value k) {
    const Instr& in = f_.body[k];
    if (in.type != Type::Elem) return;
    auto arg_signed = [&](int a) { return is_signed_[in.args[a]]; };
    is_signed_[k] = in.op == Op::Sign || (in.op == Op::Neg && arg_signed(0)) ||
                    (in.op == Op::Mul && arg_signed(0) && arg_signed(1));
    if (is_signed_[k]) {
      root_[k] = k;
      return;
    }
    // A pure function (no random draw) of constants and of values that share one root.
    if (!is_function(in.op) || draws_random(in.op)) return;
    Value root = kNone;
    bool costly = is_costly(in.op);
    for (int a = 0; a < arity(in.op); ++a) {
      Value arg = in.args[a];
      if (f_.body[arg].op == Op::Const) continue;
      if (root_[arg] == kNone || (root != kNone && root_[arg] != root)) return;
      root = root_[arg];
      costly |= costly_[arg];
    }
    if (root == kNone) return;
    root_[k] = root;
    costly_[k] = costly;
  }

  // Instruction k's value when its root is x, by the interpreter's functions.
  float evaluate(Value k, float x) const {
    const Instr& in = f_.body[k];
    if (root_[k] == k) return x;  // the only signed value in the cone is the root
    if (in.op == Op::Const) return in.imm;
    const dsl::FunctionInfo& fn = dsl::info(fn_of(in.op));
    float a = evaluate(in.args[0], x);
    float b = fn.arity > 1 ? evaluate(in.args[1], x) : 0.0f;
    return fn.eval(a, b, in.imm);
  }

  std::optional<LookupTable> tabulate(Value k) const {
    float plus_zero = evaluate(k, 0.0f), minus_zero = evaluate(k, -0.0f);
    if (std::bit_cast<std::uint32_t>(plus_zero) != std::bit_cast<std::uint32_t>(minus_zero)) return std::nullopt;
    return LookupTable{evaluate(k, -1.0f), plus_zero, evaluate(k, 1.0f),
                       evaluate(k, std::numeric_limits<float>::quiet_NaN())};
  }

  const Function& f_;
  std::vector<bool> is_signed_;  // per instruction: only -1, -0, +0, 1 or NaN
  std::vector<Value> root_;      // per instruction: the one signed value it is a function of
  std::vector<bool> costly_;     // per instruction: costly work between it and its root
};

}  // namespace

Function lower_sign_lookups(const Function& f) { return SignLookups(f).run(); }

}  // namespace nos::ir
