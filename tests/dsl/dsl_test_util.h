// Helpers shared by the dsl tests: a structural dump of trees and one-line ways to get the printed
// form or the rendered error of a text.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "dsl/parser.h"
#include "dsl/printer.h"

namespace nos::dsl::test {

// (mul (neg g) 2): shows the tree's shape, which the canonical printer hides by design.
inline std::string sexpr(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Number: return format_number(e.number);
    case Expr::Kind::Operand: return std::string(e.operand->name);
    case Expr::Kind::Constant: return "$" + e.name;
    case Expr::Kind::Call: break;
  }
  std::string out = "(" + std::string(info(e.fn).name);
  for (const ExprPtr& arg : e.args) out += " " + sexpr(*arg);
  return out + ")";
}

inline std::string tree(std::string_view text) { return sexpr(*parse_rule(text).body); }
inline std::string canonical(std::string_view text) { return print(parse_rule(text)); }

// The full rendered diagnostic of parsing `text` as one rule, or "" when it parses.
inline std::string error_of(std::string_view text, std::string name = "<expr>") {
  try {
    parse_rule(text, std::move(name));
  } catch (const Error& e) {
    return e.diagnostic().render();
  }
  return "";
}

// Just the message, for tests about wording rather than placement.
inline std::string message_of(std::string_view text) {
  try {
    parse_rule(text);
  } catch (const Error& e) {
    return e.diagnostic().message;
  }
  return "";
}

}  // namespace nos::dsl::test
