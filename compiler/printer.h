// Stable text forms of the IR: the dump (one instruction a line, for `nosc explain` and golden
// tests) and the DSL text of a function (IR -> rule text; parsing it back gives the same IR up to
// canonicalization).
#pragma once

#include <string>

#include "compiler/ir.h"

namespace nos::ir {

std::string dump(const Function& f);
std::string to_text(const Function& f);

}  // namespace nos::ir
