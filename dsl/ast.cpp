#include "dsl/ast.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <unordered_set>
#include <utility>

namespace nos::dsl {

ExprPtr Expr::make_number(float value, SourceRange range) {
  auto e = std::make_shared<Expr>();
  e->kind = Kind::Number, e->range = range, e->number = value;
  return e;
}

ExprPtr Expr::make_operand(const OperandInfo* operand, SourceRange range) {
  auto e = std::make_shared<Expr>();
  e->kind = Kind::Operand, e->range = range, e->operand = operand;
  return e;
}

ExprPtr Expr::make_constant(std::string name, SourceRange range) {
  auto e = std::make_shared<Expr>();
  e->kind = Kind::Constant, e->range = range, e->name = std::move(name);
  return e;
}

ExprPtr Expr::make_call(Fn fn, std::vector<ExprPtr> args, SourceRange range) {
  auto e = std::make_shared<Expr>();
  e->kind = Kind::Call, e->range = range, e->fn = fn, e->args = std::move(args);
  return e;
}

// Bitwise, so that -0 and 0 differ (they print differently); any two NaNs are equal.
bool same_float(float a, float b) {
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

namespace {

struct PairHash {
  std::size_t operator()(const std::pair<const Expr*, const Expr*>& p) const {
    return std::hash<const Expr*>()(p.first) * 31 + std::hash<const Expr*>()(p.second);
  }
};
using Compared = std::unordered_set<std::pair<const Expr*, const Expr*>, PairHash>;

// Two DAGs with the same sharing compare in time linear in their nodes: a pair of calls is
// compared once (a mismatch anywhere ends the whole comparison, so a pair seen before is equal).
bool equal(const Expr& a, const Expr& b, Compared& compared) {
  if (&a == &b) return true;  // shared subtrees (the token form's o1, o2, ...) compare in O(1)
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Expr::Kind::Number: return same_float(a.number, b.number);
    case Expr::Kind::Operand: return a.operand == b.operand;
    case Expr::Kind::Constant: return a.name == b.name;
    case Expr::Kind::Call:
      if (a.fn != b.fn || a.args.size() != b.args.size()) return false;
      if (!compared.emplace(&a, &b).second) return true;
      for (std::size_t i = 0; i < a.args.size(); ++i)
        if (!equal(*a.args[i], *b.args[i], compared)) return false;
      return true;
  }
  return false;
}

}  // namespace

bool equal(const Expr& a, const Expr& b) {
  Compared compared;
  return equal(a, b, compared);
}

bool equal(const Rule& a, const Rule& b) {
  if (a.name != b.name || !equal(*a.body, *b.body)) return false;
  for (const SettingInfo& s : settings())
    if (!same_float(a.settings.*s.field, b.settings.*s.field)) return false;
  std::vector<const Binding*> constants_a, constants_b;
  for (const Binding& binding : a.bindings)
    if (!find_setting(binding.name)) constants_a.push_back(&binding);
  for (const Binding& binding : b.bindings)
    if (!find_setting(binding.name)) constants_b.push_back(&binding);
  if (constants_a.size() != constants_b.size()) return false;
  for (std::size_t i = 0; i < constants_a.size(); ++i)
    if (constants_a[i]->name != constants_b[i]->name || !same_float(constants_a[i]->value, constants_b[i]->value))
      return false;
  return true;
}

bool equal(const Module& a, const Module& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (std::size_t i = 0; i < a.rules.size(); ++i)
    if (!equal(a.rules[i], b.rules[i])) return false;
  return true;
}

}  // namespace nos::dsl
