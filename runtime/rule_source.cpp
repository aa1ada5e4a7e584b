#include "runtime/rule_source.h"

#include <filesystem>
#include <stdexcept>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "dsl/parser.h"
#include "dsl/printer.h"

namespace nos::runtime {

std::string CompiledRule::hash_hex() const { return ir::hash_hex(hash); }

std::string CompiledRule::display() const { return name.empty() ? text : name + ": " + text; }

CompiledRule compile_rule(const dsl::Rule& rule) {
  CompiledRule compiled;
  compiled.name = rule.name;
  dsl::Rule anonymous = rule;  // the text is the rule's body and settings, not its label
  anonymous.name.clear();
  compiled.text = dsl::print(anonymous);
  compiled.optimized = ir::optimize(ir::lower(rule));
  compiled.hash = ir::canonical_hash(compiled.optimized);
  return compiled;
}

CompiledRule compile_rule_text(std::string_view text) { return compile_rule(dsl::parse_rule(text)); }

CompiledRule load_rule(const std::string& file_or_expr, const std::string& rule_name) {
  std::error_code ec;
  // A name ending in .dsl is never a rule's text: a missing file must be reported as missing.
  bool looks_like_file = file_or_expr.size() > 4 && file_or_expr.ends_with(".dsl");
  if (!looks_like_file && !std::filesystem::exists(file_or_expr, ec)) {
    if (!rule_name.empty())
      throw std::invalid_argument("--rule-name '" + rule_name + "' needs a rule file, but '" + file_or_expr +
                                  "' is not a file (it was read as an expression)");
    return compile_rule_text(file_or_expr);
  }
  dsl::Module module = dsl::parse_file(file_or_expr);
  std::string names;
  for (const dsl::Rule& rule : module.rules) {
    if (!rule_name.empty() && rule.name == rule_name) return compile_rule(rule);
    names += " " + (rule.name.empty() ? std::string("<anonymous>") : rule.name);
  }
  if (!rule_name.empty())
    throw std::invalid_argument(file_or_expr + " has no rule named '" + rule_name + "'; it holds:" + names);
  if (module.rules.size() > 1)
    throw std::invalid_argument(file_or_expr + " holds " + std::to_string(module.rules.size()) +
                                " rules; pick one with --rule-name:" + names);
  return compile_rule(module.rules.front());
}

}  // namespace nos::runtime
