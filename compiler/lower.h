// Syntax tree -> IR: derived operands expand through their vocabulary definitions, settings become
// immediates and state slots, and every drop gets its own random stream in source order.
#pragma once

#include "compiler/ir.h"
#include "dsl/ast.h"

namespace nos::ir {

Function lower(const dsl::Rule& rule);

}  // namespace nos::ir
