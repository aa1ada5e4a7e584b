// Syntax tree -> IR: derived operands expand through their vocabulary definitions, settings become
// immediates and state slots, and every random function (drop) gets the random stream of its
// probability: equal calls share one draw, and no optimization pass can change a stream.
#pragma once

#include "compiler/ir.h"
#include "dsl/ast.h"

namespace nos::ir {

Function lower(const dsl::Rule& rule);

}  // namespace nos::ir
