// A rule ready for the runtime: its text, its optimized IR and the canonical hash that names it in
// checkpoints and reports. Torch-free, so the command-line tools can use it without LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/ir.h"
#include "dsl/ast.h"

namespace nos::runtime {

struct CompiledRule {
  std::string name;        // the rule's name in its file; empty for an anonymous expression
  std::string text;        // canonical text (dsl::print): what reports and checkpoints show
  ir::Function optimized;  // ir::optimize(ir::lower(rule))
  std::uint64_t hash = 0;  // ir::canonical_hash(optimized): equal for rules that compute the same

  std::string hash_hex() const;
  std::string display() const;  // "name: text", or the text alone
};

CompiledRule compile_rule(const dsl::Rule& rule);

// One rule written as text, e.g. "exp(sign(g) * sign(m)) * g". Throws dsl::Error.
CompiledRule compile_rule_text(std::string_view text);

// The command line's `--rule FILE|EXPR [--rule-name NAME]`: an existing path, or any name ending in
// .dsl, is read as a rule file (NAME picks one of several rules); anything else is parsed as an
// expression. Throws dsl::Error
// for an invalid rule and std::invalid_argument when NAME is missing, unknown or not applicable.
CompiledRule load_rule(const std::string& file_or_expr, const std::string& rule_name = "");

}  // namespace nos::runtime
