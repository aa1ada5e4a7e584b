// eliminate_common_subexpressions: value numbering over the SSA list.
//
// Why: lowering expands every operand occurrence separately (g3 is g * g * g, adam and rmsprop
// both read sqrt(v)), and the token form repeats operands across groups. Each copy would cost a
// kernel instruction, and two slots of the same average would cost a state buffer each.
//
// Equal means bit-equal: same op, same argument values (sorted for commutative ops, whose two
// orders round identically), same immediate bits and same index. So two drops on different
// streams stay apart (independent masks), while two normals on one stream are the same draw and
// merge. Moving-average reads compare their slots' contents, not slot numbers, so duplicate slots
// merge too (eliminate_dead_state then drops the unread one).
#include <algorithm>
#include <bit>
#include <map>
#include <tuple>

#include "compiler/passes.h"
#include "compiler/passes/graph.h"

namespace nos::ir {
namespace {

using Key = std::tuple<Op, Value, Value, std::uint32_t, std::uint32_t>;  // op, args, imm bits, index

// For each slot, the first slot with the same contents.
std::vector<std::uint32_t> first_equal_slots(const Function& f) {
  std::vector<std::uint32_t> first(f.states.size());
  for (std::uint32_t s = 0; s < first.size(); ++s) {
    first[s] = s;
    for (std::uint32_t t = 0; t < s; ++t)
      if (f.states[t] == f.states[s]) {
        first[s] = t;
        break;
      }
  }
  return first;
}

}  // namespace

Function eliminate_common_subexpressions(const Function& f) {
  Function out;
  out.name = f.name;
  out.states = f.states;
  Builder builder(out);
  const std::vector<std::uint32_t> slot = first_equal_slots(f);
  std::map<Key, Value> numbered;
  std::vector<Value> moved(f.body.size());
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    Instr in = without_dont_cares(f.body[i]);
    for (int a = 0; a < arity(in.op); ++a) in.args[a] = moved[in.args[a]];
    if (in.op == Op::Mavg) in.index = slot[in.index];
    Value lo = in.args[0], hi = in.args[1];
    if (is_function(in.op) && dsl::info(fn_of(in.op)).commutative && hi < lo) std::swap(lo, hi);
    Key key{in.op, lo, hi, std::bit_cast<std::uint32_t>(in.imm), in.index};
    auto [it, fresh] = numbered.try_emplace(key, 0);
    if (fresh) it->second = builder.push(in);
    moved[i] = it->second;
  }
  out.result = moved[f.result];
  return out;
}

}  // namespace nos::ir
