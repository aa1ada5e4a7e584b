// The emitters behind compiler::emit (emit.h), one per target; internal to compiler/emit.
#pragma once

#include <string>

#include "compiler/ir.h"

namespace nos::compiler::emit_detail {

struct Source {
  const ir::Function& f;  // optimized
  std::string rule_text;  // quoted in the header
  std::string name;       // the class or symbol; empty: from the hash
};

std::string pytorch(const Source& source);
std::string cpp(const Source& source);
std::string cuda_standalone(const Source& source);

}  // namespace nos::compiler::emit_detail
