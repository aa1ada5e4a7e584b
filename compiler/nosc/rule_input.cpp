#include <iostream>

#include "compiler/analysis.h"
#include "compiler/lower.h"
#include "compiler/nosc/commands.h"
#include "compiler/passes.h"
#include "dsl/parser.h"

namespace nos::nosc {

void RuleInput::add_options(CLI::App& command, bool select_one) {
  command.add_option("FILE", file, "rule file (.dsl); several rules per file are allowed");
  command.add_option("-e,--expr", expr, "the rule as text, e.g. 'exp(sign(g) * sign(m)) * g'");
  command.add_option("-t,--tokens", tokens, "the rule in token form, e.g. 'sign_g sign_m id id mul o1 g exp id mul'");
  command.add_option("--rule", rule_name,
                     select_one ? "which rule of FILE to use (needed when it holds several)"
                                : "only this rule of FILE");
}

std::vector<LoadedRule> load_rules(const RuleInput& input) {
  int given = !input.file.empty() + !input.expr.empty() + !input.tokens.empty();
  if (given != 1) throw UsageError("give exactly one rule: FILE, -e EXPR or --tokens TOKENS");

  std::vector<LoadedRule> loaded;
  if (!input.tokens.empty()) {
    auto source = std::make_shared<const dsl::Source>(dsl::Source{"<tokens>", input.tokens});
    dsl::TokenSequence tokens = dsl::parse_tokens(source);
    loaded.push_back({dsl::to_rule(tokens), source, tokens});
  } else {
    dsl::Module module = input.file.empty()
                             ? dsl::parse_module(std::make_shared<const dsl::Source>(dsl::Source{"<expr>", input.expr}))
                             : dsl::parse_file(input.file);
    for (dsl::Rule& rule : module.rules) {
      std::optional<dsl::TokenSequence> tokens = dsl::to_tokens(*rule.body);
      loaded.push_back({std::move(rule), module.source, std::move(tokens)});
    }
  }
  if (!input.rule_name.empty()) {
    std::erase_if(loaded, [&](const LoadedRule& r) { return r.rule.name != input.rule_name; });
    if (loaded.empty()) throw UsageError("no rule named '" + input.rule_name + "'");
  }
  return loaded;
}

LoadedRule load_one_rule(const RuleInput& input) {
  std::vector<LoadedRule> rules = load_rules(input);
  if (rules.size() > 1) {
    std::string names;
    for (const LoadedRule& r : rules) names += " " + display_name(r.rule);
    throw UsageError(input.file + " holds " + std::to_string(rules.size()) + " rules; pick one with --rule:" + names);
  }
  return std::move(rules.front());
}

ir::Function compile_rule(const LoadedRule& loaded, bool warn_non_finite) {
  ir::Function optimized = ir::optimize(ir::lower(loaded.rule));
  if (warn_non_finite) {
    if (std::optional<std::string> why = ir::always_non_finite(optimized)) {
      dsl::Diagnostic warning{dsl::Severity::Warning, loaded.source, loaded.rule.range,
                              "rule '" + display_name(loaded.rule) + "' can only produce NaN or infinity: " + *why};
      std::cerr << warning.render();
    }
  }
  return optimized;
}

std::string display_name(const dsl::Rule& rule) { return rule.name.empty() ? "<anonymous>" : rule.name; }

}  // namespace nos::nosc
