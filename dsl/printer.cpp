// Printing is the inverse of parser.cpp: parentheses appear exactly where the grammar needs them to
// rebuild the same tree, and a node the tree shares (a DAG: token-form results, definitions) is
// printed once, as a definition `x1 = ...;`, unless it is small (a call of leaves), so the text
// stays linear in the number of nodes. Known limits, both unreachable from parsed text:
//  - a Number holding a negative value prints as `-1`, which parses back as neg(1);
//  - inf and nan print as `inf` and `nan`, which do not parse.
#include "dsl/printer.h"

#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace nos::dsl {
namespace {

constexpr int kAtomPrecedence = 100;  // numbers, names, calls: never need parentheses

bool is_leaf(const Expr& e) { return e.kind != Expr::Kind::Call; }

// Cheap enough to repeat at every use instead of naming it: repeating it costs O(1) per use.
bool is_small(const Expr& e) {
  for (const ExprPtr& arg : e.args)
    if (!is_leaf(*arg)) return false;
  return true;
}

// The shared nodes that get a name, in an order where each definition only uses earlier ones.
class Names {
 public:
  // `taken`: names the rule already uses (its `with` constants), never given to a definition.
  Names(const Expr& root, const std::vector<Binding>& bindings) {
    count_uses(root);
    std::unordered_set<std::string_view> taken;
    for (const Binding& b : bindings) taken.insert(b.name);
    for (const Expr* e : order_) {
      if (uses_[e] < 2 || is_small(*e)) continue;
      std::string name;
      do name = "x" + std::to_string(++counter_);
      while (taken.count(name) || find_operand(name) || find_function(name) || find_setting(name));
      names_.emplace(e, std::move(name));
      defined_.push_back(e);
    }
  }

  const std::string* name_of(const Expr& e) const {
    auto it = names_.find(&e);
    return it == names_.end() ? nullptr : &it->second;
  }
  const std::vector<const Expr*>& definitions() const { return defined_; }

 private:
  // Post-order, each call node once: arguments come before their users.
  void count_uses(const Expr& e) {
    if (is_leaf(e) || uses_[&e]++ > 0) return;
    for (const ExprPtr& arg : e.args) count_uses(*arg);
    order_.push_back(&e);
  }

  std::unordered_map<const Expr*, int> uses_;
  std::vector<const Expr*> order_;
  std::unordered_map<const Expr*, std::string> names_;
  std::vector<const Expr*> defined_;
  int counter_ = 0;
};

bool is_negation(const Expr& e) { return e.kind == Expr::Kind::Call && e.fn == Fn::Neg && e.args.size() == 1; }

bool is_infix(const Expr& e) {
  return e.kind == Expr::Kind::Call && !info(e.fn).infix.empty() && e.args.size() == 2;
}

int precedence(const Expr& e, const Names& names) {
  if (names.name_of(e)) return kAtomPrecedence;
  if (e.kind == Expr::Kind::Number) return std::signbit(e.number) ? kUnaryMinusPrecedence : kAtomPrecedence;
  if (is_negation(e)) return kUnaryMinusPrecedence;
  if (is_infix(e)) return info(e.fn).precedence;
  return kAtomPrecedence;
}

// Operators that bind tighter than unary minus (^) take a `unary` on their right, so they are
// right-associative and their right side needs no parentheses for a negation.
bool is_right_associative(int op_precedence) { return op_precedence > kUnaryMinusPrecedence; }

void print_to(std::string& out, const Expr& e, const Names& names, bool define = false);

void print_operand(std::string& out, const Expr& e, const Names& names, bool parenthesize) {
  if (parenthesize) out += '(';
  print_to(out, e, names);
  if (parenthesize) out += ')';
}

// `define`: print the node itself even when it has a name (its definition's right side).
void print_to(std::string& out, const Expr& e, const Names& names, bool define) {
  if (const std::string* name = names.name_of(e); name && !define) {
    out += *name;
    return;
  }
  switch (e.kind) {
    case Expr::Kind::Number: out += format_number(e.number); return;
    case Expr::Kind::Operand: out += e.operand->name; return;
    case Expr::Kind::Constant: out += e.name; return;
    case Expr::Kind::Call: break;
  }
  if (is_negation(e)) {
    const Expr& operand = *e.args[0];
    bool parenthesize = precedence(operand, names) < kUnaryMinusPrecedence;
    std::size_t start = out.size();
    out += '-';
    print_operand(out, operand, names, parenthesize);
    if (out.size() > start + 1 && out[start + 1] == '-') out.insert(start + 1, " ");  // `- -x`, not `--x`
    return;
  }
  if (is_infix(e)) {
    const FunctionInfo& f = info(e.fn);
    int left = precedence(*e.args[0], names), right = precedence(*e.args[1], names);
    bool right_assoc = is_right_associative(f.precedence);
    print_operand(out, *e.args[0], names, right_assoc ? left <= f.precedence : left < f.precedence);
    out += ' ';
    out += f.infix;
    out += ' ';
    print_operand(out, *e.args[1], names, right_assoc ? right < kUnaryMinusPrecedence : right <= f.precedence);
    return;
  }
  out += info(e.fn).name;
  out += '(';
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    if (i > 0) out += ", ";
    print_to(out, *e.args[i], names);
  }
  out += ')';
}

// The definitions of the shared nodes, then the expression: `x1 = g + m; x1 * x1`.
void print_body(std::string& out, const Expr& body, const std::vector<Binding>& bindings) {
  Names names(body, bindings);
  for (const Expr* e : names.definitions()) {
    out += *names.name_of(*e);
    out += " = ";
    print_to(out, *e, names, true);
    out += "; ";
  }
  print_to(out, body, names, true);
}

}  // namespace

std::string format_number(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round trip
  (void)error;  // 64 bytes always suffice for a float
  std::string text(buffer, end);
  // to_chars writes 1e-08 and 1e+20; people write 1e-8 and 1e20. Both lex to the same float.
  std::size_t e = text.find('e');
  if (e == std::string::npos) return text;
  std::string exponent = text.substr(e + 1);
  bool negative = exponent[0] == '-';
  std::size_t digits = exponent.find_first_not_of("+-0");
  return text.substr(0, e + 1) + (negative ? "-" : "") +
         (digits == std::string::npos ? "0" : exponent.substr(digits));
}

std::string print(const Expr& expr) {
  std::string out;
  print_body(out, expr, {});
  return out;
}

std::string print(const Rule& rule) {
  std::string out = rule.name.empty() ? "" : rule.name + ": ";
  print_body(out, *rule.body, rule.bindings);
  std::string clause;
  auto add = [&](std::string_view name, const std::string& value) {
    clause += clause.empty() ? " with " : ", ";
    clause += name;
    clause += " = " + value;
  };
  for (const Binding& binding : rule.bindings)
    if (!find_setting(binding.name)) add(binding.name, format_number(binding.value));
  const Settings defaults;
  for (const SettingInfo& s : settings()) {
    float value = rule.settings.*s.field;
    if (same_float(value, defaults.*s.field)) continue;
    bool word = s.is_switch && (value == 0.0f || value == 1.0f);
    add(s.name, word ? (value == 1.0f ? "on" : "off") : format_number(value));
  }
  return out + clause;
}

// One rule per line; an anonymous rule after the first needs a ';' before it.
std::string print(const Module& module) {
  std::string out;
  for (std::size_t i = 0; i < module.rules.size(); ++i) {
    out += print(module.rules[i]);
    if (i + 1 < module.rules.size() && module.rules[i + 1].name.empty()) out += ';';
    out += '\n';
  }
  return out;
}

}  // namespace nos::dsl
