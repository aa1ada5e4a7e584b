// Syntax tree -> canonical text: minimal parentheses, shortest round-trip float literals,
// settings that differ from their defaults in a `with` clause, and a definition `x1 = ...;` for each
// shared node that is more than a call of leaves, so the text is linear in the tree's nodes even
// when its paths are exponential. parse(print(x)) == x (equal(): structure, not sharing).
#pragma once

#include <string>

#include "dsl/ast.h"

namespace nos::dsl {

std::string format_number(float value);  // shortest text that parses back to the same float
std::string print(const Expr& expr);
std::string print(const Rule& rule);
std::string print(const Module& module);

}  // namespace nos::dsl
