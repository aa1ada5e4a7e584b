// ir::step_inputs() as source text, for the emitters of compiler/emit: the per-step scalars
// (decays, the noise scale) and the bias corrections of step t of T, each an expression in double
// precision that the generated code rounds to float once, exactly as ir::step_scalar does.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"

namespace nos::compiler::emit_detail {

enum class Language { Python, Cpp };

// One expression per ir::StepInputs entry in the kernel ABI's order (every Step instruction in body
// order, then one bias correction per state slot), over the variables `t` and `T` (T already
// replaced by 1 where it is 0, as ir::step_scalar does).
std::vector<std::string> step_input_expressions(const ir::Function& f, Language language);

// A double literal that reads back as exactly `x` in C++ and Python (17 significant digits).
std::string double_literal(double x);

}  // namespace nos::compiler::emit_detail
