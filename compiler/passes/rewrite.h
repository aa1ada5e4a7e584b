// The pattern language of the rewrite table (rewrite_rules.cpp), private to the passes.
//
// Rules are written Halide-style over wildcards, e.g. {"mul-one", x * 1, x} or
// {"clip-clip", clip(clip(x, c0), c1), clip(x, fold(min_c0_c1)), both_nonnegative}: a pattern
// to find, the replacement to build from what it bound, and an optional predicate on the bindings.
// simplify.cpp owns the driver that applies the table; this header only describes rules.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "compiler/ir.h"

namespace nos::ir::rewrite {

inline constexpr int kNumWildcards = 2;  // x, y: any value
inline constexpr int kNumConstants = 2;  // c0, c1: any Const instruction

// What a successful match binds: wildcard values, and constant wildcards' values and instructions.
struct Match {
  std::array<Value, kNumWildcards> value{};
  std::array<bool, kNumWildcards> value_bound{};
  std::array<float, kNumConstants> constant{};
  std::array<Value, kNumConstants> constant_value{};
  std::array<bool, kNumConstants> constant_bound{};
};

struct Pattern {
  enum class Kind : std::uint8_t {
    Wildcard,          // binds any value; a second use must be the same value
    ConstantWildcard,  // binds a Const instruction
    Literal,           // a Const equal to `literal` (0 also matches -0: the passes treat them as equal)
    Apply,             // a function applied to argument patterns; commutative ones match both orders
    Fold,              // replacement only: a constant computed from the bindings
  };
  Kind kind = Kind::Literal;
  int slot = 0;  // Wildcard, ConstantWildcard
  float literal = 0;
  Fn fn = Fn::Id;
  std::vector<Pattern> args;
  float (*fold)(const Match&) = nullptr;

  Pattern(float value) : literal(value) {}  // implicit, so that rules can say x * 1
  Pattern(Kind k, int s) : kind(k), slot(s) {}
  Pattern(Fn f, std::vector<Pattern> a) : kind(Kind::Apply), fn(f), args(std::move(a)) {}
};

struct RewriteRule {
  std::string_view name;
  Pattern before;  // must be an Apply
  Pattern after;   // may not build div or drop: their immediates are not part of the pattern
  bool (*when)(const Match&) = nullptr;
};

// The table, in the order the simplifier tries it.
std::span<const RewriteRule> rewrite_rules();

// Matches rule.before against `root`, an instruction whose arguments are values of `f` (root itself
// need not be in f yet: the simplifier matches before it appends), then checks rule.when. A
// commutative pattern tries its second order only when the first fails at that node.
std::optional<Match> match(const RewriteRule& rule, const Function& f, const Instr& root);

}  // namespace nos::ir::rewrite
