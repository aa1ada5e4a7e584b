// canonicalize and canonical_hash: one representative per equivalence class of rules.
//
// Why: the search samples the same rule many times in different disguises (a*b vs b*a, operands
// in another group order), and every evaluation costs a training run. With a canonical form the
// search caches rewards and compiled kernels by canonical_hash, and `nosc` prints one text for one
// rule. Swapping a commutative op's arguments is exact in IEEE arithmetic, so this pass is too.
//
// The form: each commutative op's arguments ordered by a structural hash of their subtrees (a
// hash that ignores instruction and slot numbering), instructions in post-order of a depth-first
// walk from the result (arguments in order), state slots numbered by first use in that order.
#include <algorithm>
#include <array>
#include <bit>
#include <tuple>

#include <fmt/format.h>

#include "compiler/passes.h"
#include "compiler/passes/graph.h"
#include "compiler/structural_hash.h"

namespace nos::ir {
namespace {

class Canonicalizer {
 public:
  explicit Canonicalizer(const Function& f) : f_(f), hash_(structural_hashes(f)), builder_(out_) {
    out_.name = f.name;
  }

  Function run() {
    moved_.assign(f_.body.size(), kUnvisited);
    out_.result = visit(f_.result);
    // Slots nothing reads keep no position of their own: order them by contents.
    std::vector<std::uint32_t> unread;
    for (std::uint32_t s = 0; s < f_.states.size(); ++s)
      if (std::find(first_use_.begin(), first_use_.end(), s) == first_use_.end()) unread.push_back(s);
    std::stable_sort(unread.begin(), unread.end(), [&](std::uint32_t a, std::uint32_t b) {
      const StateSlot &x = f_.states[a], &y = f_.states[b];
      return std::tuple(x.power, std::bit_cast<std::uint32_t>(x.beta), x.bias_correction) <
             std::tuple(y.power, std::bit_cast<std::uint32_t>(y.beta), y.bias_correction);
    });
    for (std::uint32_t s : first_use_) out_.states.push_back(f_.states[s]);
    for (std::uint32_t s : unread) out_.states.push_back(f_.states[s]);
    return out_;
  }

 private:
  static constexpr Value kUnvisited = ~Value{0};

  Value visit(Value v) {
    if (moved_[v] != kUnvisited) return moved_[v];
    Instr in = without_dont_cares(f_.body[v]);
    if (is_function(in.op) && dsl::info(fn_of(in.op)).commutative && hash_[in.args[1]] < hash_[in.args[0]])
      std::swap(in.args[0], in.args[1]);
    for (int a = 0; a < arity(in.op); ++a) in.args[a] = visit(in.args[a]);
    if (in.op == Op::Mavg) in.index = slot_number(in.index);
    return moved_[v] = builder_.push(in);
  }

  std::uint32_t slot_number(std::uint32_t slot) {
    auto it = std::find(first_use_.begin(), first_use_.end(), slot);
    if (it == first_use_.end()) it = first_use_.insert(it, slot);
    return static_cast<std::uint32_t>(it - first_use_.begin());
  }

  const Function& f_;
  std::vector<std::uint64_t> hash_;
  Function out_;
  Builder builder_;
  std::vector<Value> moved_;
  std::vector<std::uint32_t> first_use_;  // old slot numbers in order of first use
};

}  // namespace

Function canonicalize(const Function& f) { return Canonicalizer(f).run(); }

// The name is left out: two rules that compute the same thing share a cache entry. Every field is
// hashed by its spelling or its bits (structural_hash.h), behind the language version.
std::uint64_t canonical_hash(const Function& canonical) {
  Fnv1a h;
  h.add("nos-rule");
  h.add(static_cast<std::uint64_t>(dsl::kLanguageVersion));
  h.add(static_cast<std::uint64_t>(canonical.states.size()));
  for (const StateSlot& s : canonical.states) {
    h.add(static_cast<std::uint64_t>(s.power));
    h.add(static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(s.beta)));
    h.add(static_cast<std::uint64_t>(s.bias_correction));
  }
  h.add(static_cast<std::uint64_t>(canonical.body.size()));
  for (const Instr& raw : canonical.body) {
    Instr in = without_dont_cares(raw);
    h.add(std::string_view(name(in.op)));
    h.add(std::string_view(in.type == Type::Step ? "step" : "elem"));
    h.add(static_cast<std::uint64_t>(in.args[0]));
    h.add(static_cast<std::uint64_t>(in.args[1]));
    h.add(static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(in.imm)));
    if (in.op == Op::Step) h.add(std::string_view(name(static_cast<StepScalar>(in.index))));
    else h.add(static_cast<std::uint64_t>(in.index));
  }
  h.add(static_cast<std::uint64_t>(canonical.result));
  return h.value();
}

std::string hash_hex(std::uint64_t hash) { return fmt::format("{:016x}", hash); }

}  // namespace nos::ir
