// The token form the controller samples: groups of five tokens `op1 op2 u1 u2 b`, each group
// meaning b(u1(op1), u2(op2)); group k's result is operand o(k+1) for later groups, and the last
// group's result is the rule. Conversions to and from the syntax tree, and a printer/parser.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "dsl/ast.h"

namespace nos::dsl {

// Token ids index tokens(slot); an operand id >= tokens(Slot::Operand).size() names the result of
// group (id - size), which must be an earlier group.
struct Group {
  std::uint16_t op1 = 0, op2 = 0, u1 = 0, u2 = 0, b = 0;
  std::uint16_t operator[](int position) const;  // 0..4 in the order above
  std::uint16_t& operator[](int position);
};
using TokenSequence = std::vector<Group>;

// Number of choices at `position` (0..4) of group `group`: the controller's head sizes.
int choices(int group, int position);

std::string spell(int group, int position, std::uint16_t id);  // "g", "o1", "clip4", ...
std::string print_tokens(const TokenSequence& tokens);        // "sign_g sign_m id id mul o1 g exp id mul"
// Whitespace-separated tokens, `#` comments. A ';' or a line break may only fall between groups,
// so a group with a token missing is reported as such, not as a token in the wrong position. At
// most kMaxGroups groups (ast.h): the most whose rule still prints as text that reads back.
TokenSequence parse_tokens(std::shared_ptr<const Source> source);  // throws dsl::Error

// The rule a token sequence denotes: `id` disappears, clip4 becomes clip(x, 0.0001), etc. Each
// group's result is one node, shared by every later group that reads it: linear in the groups.
// Throws std::invalid_argument for an empty sequence or one longer than kMaxGroups.
Rule to_rule(const TokenSequence& tokens, std::string name = "");

// A token sequence for the expression, if it fits the token form (vocabulary operands and
// functions only, literals 1 and 2, clip/drop with the token form's parameters, no explicit id).
// to_rule gives back `expr` itself for every expression to_rule can produce. Other shapes come back
// equal in value only: a root that is not a binary call becomes keep(root, x), and a unary applied
// to a unary makes an extra group, keep(u(x), x), for the inner one. More than kMaxGroups groups
// do not fit.
std::optional<TokenSequence> to_tokens(const Expr& expr);

// Uniformly random valid sequence of `groups` groups (1 to kMaxGroups): the tests' rule generator
// and the controller's exploration baseline.
TokenSequence random_tokens(std::mt19937_64& rng, int groups);

}  // namespace nos::dsl
