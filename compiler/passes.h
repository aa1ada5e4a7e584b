// The optimization passes, one per file in passes/, each a pure Function -> Function map.
// Every pass keeps the result identical under the reference interpreter, NaN and infinities
// included, up to the sign of a zero result (x + 0 -> x: see rewrite_rules.cpp); no
// reassociation, no rewrite that changes a finite result or a NaN into a number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir.h"

namespace nos::ir {

// Evaluates step-typed subexpressions whose inputs are all constants (drop is never folded).
Function fold_constants(const Function& f);
// Applies the rewrite table (passes/rewrite_rules.cpp) to a fixed point: x*1 -> x, keep(x,y) -> x ...
Function simplify(const Function& f);
// Merges instructions that compute the same thing from the same arguments.
Function eliminate_common_subexpressions(const Function& f);
// Drops instructions the result does not reach, and the state slots nothing reads any more.
Function eliminate_dead_state(const Function& f);
// Orders commutative arguments and renumbers instructions in a canonical order, so rules that
// differ only by commutation or by simplification print and hash the same.
Function canonicalize(const Function& f);
std::uint64_t canonical_hash(const Function& canonical);
std::string hash_hex(std::uint64_t hash);  // 16 hex digits

// Code generation's lowering, not part of optimize(): a costly function of a product of signs
// (PowerSign's exp(sign(g) * sign(m))) becomes a Lookup of its four possible values.
Function lower_sign_lookups(const Function& f);

struct PassRecord {
  std::string pass;
  Function after;
};

// The standard pipeline; when `trace` is given, it receives the function after each pass.
Function optimize(const Function& f, std::vector<PassRecord>* trace = nullptr);

}  // namespace nos::ir
