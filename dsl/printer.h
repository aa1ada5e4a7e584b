// Syntax tree -> canonical text: minimal parentheses, shortest round-trip float literals,
// settings that differ from their defaults in a `with` clause. parse(print(x)) == x.
#pragma once

#include <string>

#include "dsl/ast.h"

namespace nos::dsl {

std::string format_number(float value);  // shortest text that parses back to the same float
std::string print(const Expr& expr);
std::string print(const Rule& rule);
std::string print(const Module& module);

}  // namespace nos::dsl
