#include "tools/rule_options.h"

#include <cstdio>

#include <fmt/format.h>

#include "dsl/excerpt.h"
#include "tools/tool_main.h"

namespace nos::tool {

bool RuleOptions::given() const { return !file.empty() || !rules.empty() || !exprs.empty() || !tokens.empty(); }

std::vector<compiler::RuleSource> RuleOptions::sources() const {
  std::vector<compiler::RuleSource> out;
  if (!file.empty()) out.push_back(compiler::RuleSource::file(file));
  for (const std::string& r : rules) out.push_back(compiler::RuleSource::file_or_text(r));
  for (const std::string& e : exprs) out.push_back(compiler::RuleSource::text(e));
  for (const std::string& t : tokens) out.push_back(compiler::RuleSource::tokens(t));
  if (!rule_name.empty()) {
    bool any_file = false;
    for (compiler::RuleSource& s : out)
      if (s.kind == compiler::RuleSource::Kind::File) s.name = rule_name, any_file = true;
    if (!any_file) {
      std::string given = !rules.empty() ? fmt::format("'{}' is not a file (it was read as the rule's text)",
                                                       dsl::excerpt(rules.front(), 200))
                                         : std::string("no rule file was given");
      throw UsageError(fmt::format("--rule-name '{}' picks a rule of a rule file, but {}", rule_name, given));
    }
  }
  return out;
}

compiler::RuleSource RuleOptions::source() const {
  std::vector<compiler::RuleSource> all = sources();
  if (all.size() != 1)
    throw UsageError(all.empty() ? "give the rule: FILE, --rule FILE|TEXT, -e TEXT or --tokens TOKENS"
                                 : "give exactly one rule: FILE, --rule FILE|TEXT, -e TEXT or --tokens TOKENS");
  return all.front();
}

void add_rule_options(CLI::App& app, RuleOptions& o, const RuleOptionsShape& shape) {
  auto once = [&](CLI::Option* option) {
    if (!shape.repeatable) option->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    return option;
  };
  if (shape.positional_file) app.add_option("FILE", o.file, "rule file (.dsl); several rules per file are allowed");
  std::string again = shape.repeatable ? " (repeatable)" : "";
  once(app.add_option("--rule", o.rules,
                      fmt::format("{}: a rule file (an existing path, or a name ending in .dsl), else the rule's "
                                  "text, e.g. 'exp(sign(g) * sign(m)) * g'{}",
                                  shape.what, again)))
      ->allow_extra_args(false);
  once(app.add_option("-e,--expr", o.exprs, fmt::format("{} as text, e.g. 'exp(sign(g) * sign(m)) * g'{}", shape.what, again)))
      ->allow_extra_args(false);
  once(app.add_option("-t,--tokens", o.tokens,
                      fmt::format("{} in token form, e.g. 'sign_g sign_m id id mul o1 g exp id mul'{}", shape.what, again)))
      ->allow_extra_args(false);
  app.add_option("--rule-name", o.rule_name,
                 shape.repeatable ? "only this rule of each rule file given" : "which rule of a file holding several");
}

void print_warnings(const compiler::CompiledRule& rule) {
  for (const dsl::Diagnostic& d : rule.diagnostics) fmt::print(stderr, "{}", d.render());
}

}  // namespace nos::tool
