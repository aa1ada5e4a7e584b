// Printing is the inverse of parser.cpp: parentheses appear exactly where the grammar needs them to
// rebuild the same tree. Known limits, both unreachable from parsed text:
//  - a Number holding a negative value prints as `-1`, which parses back as neg(1);
//  - inf and nan print as `inf` and `nan`, which do not parse.
#include "dsl/printer.h"

#include <charconv>
#include <cmath>

namespace nos::dsl {
namespace {

constexpr int kAtomPrecedence = 100;  // numbers, names, calls: never need parentheses

bool is_negation(const Expr& e) { return e.kind == Expr::Kind::Call && e.fn == Fn::Neg && e.args.size() == 1; }

bool is_infix(const Expr& e) {
  return e.kind == Expr::Kind::Call && !info(e.fn).infix.empty() && e.args.size() == 2;
}

int precedence(const Expr& e) {
  if (e.kind == Expr::Kind::Number) return std::signbit(e.number) ? kUnaryMinusPrecedence : kAtomPrecedence;
  if (is_negation(e)) return kUnaryMinusPrecedence;
  if (is_infix(e)) return info(e.fn).precedence;
  return kAtomPrecedence;
}

// Operators that bind tighter than unary minus (^) take a `unary` on their right, so they are
// right-associative and their right side needs no parentheses for a negation.
bool is_right_associative(int op_precedence) { return op_precedence > kUnaryMinusPrecedence; }

void print_to(std::string& out, const Expr& e);

void print_operand(std::string& out, const Expr& e, bool parenthesize) {
  if (parenthesize) out += '(';
  print_to(out, e);
  if (parenthesize) out += ')';
}

void print_to(std::string& out, const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Number: out += format_number(e.number); return;
    case Expr::Kind::Operand: out += e.operand->name; return;
    case Expr::Kind::Constant: out += e.name; return;
    case Expr::Kind::Call: break;
  }
  if (is_negation(e)) {
    const Expr& operand = *e.args[0];
    bool parenthesize = precedence(operand) < kUnaryMinusPrecedence;
    std::size_t start = out.size();
    out += '-';
    print_operand(out, operand, parenthesize);
    if (out.size() > start + 1 && out[start + 1] == '-') out.insert(start + 1, " ");  // `- -x`, not `--x`
    return;
  }
  if (is_infix(e)) {
    const FunctionInfo& f = info(e.fn);
    int left = precedence(*e.args[0]), right = precedence(*e.args[1]);
    bool right_assoc = is_right_associative(f.precedence);
    print_operand(out, *e.args[0], right_assoc ? left <= f.precedence : left < f.precedence);
    out += ' ';
    out += f.infix;
    out += ' ';
    print_operand(out, *e.args[1], right_assoc ? right < kUnaryMinusPrecedence : right <= f.precedence);
    return;
  }
  out += info(e.fn).name;
  out += '(';
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    if (i > 0) out += ", ";
    print_to(out, *e.args[i]);
  }
  out += ')';
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
  print_to(out, expr);
  return out;
}

std::string print(const Rule& rule) {
  std::string out = rule.name.empty() ? "" : rule.name + ": ";
  out += print(*rule.body);
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
