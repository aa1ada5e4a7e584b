#include "compiler/compile.h"

#include <filesystem>

#include <fmt/format.h>

#include "compiler/analysis.h"
#include "compiler/lower.h"
#include "compiler/printer.h"
#include "dsl/excerpt.h"
#include "dsl/parser.h"
#include "dsl/printer.h"

namespace nos::compiler {
namespace {

[[noreturn]] void fail(std::string message) {
  throw dsl::Error({dsl::Severity::Error, nullptr, {}, std::move(message)});
}

// The first few names, so that a file of thousands of rules gives a short message.
std::string rule_names(const std::vector<ParsedRule>& rules) {
  constexpr std::size_t kListed = 20;
  std::string names;
  for (std::size_t i = 0; i < rules.size() && i < kListed; ++i)
    names += " " + dsl::excerpt(display_name(rules[i].rule), 100);
  if (rules.size() > kListed) names += fmt::format(" ... and {} more", rules.size() - kListed);
  return names;
}

}  // namespace

RuleSource RuleSource::text(std::string text) { return {Kind::Text, std::move(text), {}}; }
RuleSource RuleSource::file(std::string path, std::string name) { return {Kind::File, std::move(path), std::move(name)}; }
RuleSource RuleSource::tokens(std::string tokens) { return {Kind::Tokens, std::move(tokens), {}}; }

RuleSource RuleSource::file_or_text(std::string value) {
  std::error_code ec;
  bool looks_like_file = value.size() > 4 && value.ends_with(".dsl");
  if (looks_like_file || std::filesystem::exists(value, ec)) return file(std::move(value));
  return text(std::move(value));
}

std::vector<ParsedRule> parse(const RuleSource& input) {
  std::vector<ParsedRule> parsed;
  if (input.kind == RuleSource::Kind::Tokens) {
    auto source = std::make_shared<const dsl::Source>(dsl::Source{"<tokens>", input.value});
    dsl::TokenSequence tokens = dsl::parse_tokens(source);
    parsed.push_back({dsl::to_rule(tokens), source, std::move(tokens)});
    return parsed;
  }
  dsl::Module module = input.kind == RuleSource::Kind::File
                           ? dsl::parse_file(input.value)
                           : dsl::parse_module(std::make_shared<const dsl::Source>(dsl::Source{"<expr>", input.value}));
  for (dsl::Rule& rule : module.rules) {
    std::optional<dsl::TokenSequence> tokens = dsl::to_tokens(*rule.body);
    parsed.push_back({std::move(rule), module.source, std::move(tokens)});
  }
  if (!input.name.empty()) {
    std::vector<ParsedRule> all = std::move(parsed);
    parsed.clear();
    for (ParsedRule& r : all)
      if (r.rule.name == input.name) parsed.push_back(std::move(r));
    if (parsed.empty()) fail(fmt::format("{}: no rule named '{}'; it holds:{}", input.value, input.name, rule_names(all)));
  }
  return parsed;
}

CompiledRule compile(const ParsedRule& parsed, const CompileOptions& options) {
  CompiledRule compiled;
  compiled.name = parsed.rule.name;
  dsl::Rule anonymous = parsed.rule;  // the text is the rule's body and settings, not its label
  anonymous.name.clear();
  compiled.text = dsl::print(anonymous);
  compiled.lowered = ir::lower(parsed.rule);
  compiled.optimized = ir::optimize(compiled.lowered, options.trace ? &compiled.trace : nullptr);
  compiled.hash = ir::canonical_hash(compiled.optimized);
  ir::Function unnamed = compiled.optimized;
  unnamed.name.clear();
  compiled.canonical_text = ir::to_text(unnamed);
  compiled.tokens = parsed.tokens;
  if (options.check_non_finite) {
    compiled.non_finite = ir::always_non_finite(compiled.optimized);
    if (compiled.non_finite)
      compiled.diagnostics.push_back(
          {dsl::Severity::Warning, parsed.source, parsed.rule.range,
           fmt::format("rule '{}' can only produce NaN or infinity: {}", compiled.display_name(), *compiled.non_finite)});
  }
  return compiled;
}

std::vector<CompiledRule> compile_all(const RuleSource& source, const CompileOptions& options) {
  std::vector<CompiledRule> compiled;
  for (const ParsedRule& parsed : parse(source)) compiled.push_back(compile(parsed, options));
  return compiled;
}

CompiledRule compile_one(const RuleSource& source, const CompileOptions& options) {
  std::vector<ParsedRule> parsed = parse(source);
  if (parsed.empty()) fail(fmt::format("{}: holds no rule", source.value));
  if (parsed.size() > 1)
    fail(fmt::format("{} holds {} rules; pick one by name (--rule-name):{}", source.value, parsed.size(),
                     rule_names(parsed)));
  return compile(parsed.front(), options);
}

CompiledRule compile_text(std::string_view text, const CompileOptions& options) {
  return compile_one(RuleSource::text(std::string(text)), options);
}

std::string CompiledRule::hash_hex() const { return ir::hash_hex(hash); }
std::string CompiledRule::display() const { return name.empty() ? text : name + ": " + text; }
std::string CompiledRule::display_name() const { return name.empty() ? "<anonymous>" : name; }

std::string display_name(const dsl::Rule& rule) { return rule.name.empty() ? "<anonymous>" : rule.name; }

}  // namespace nos::compiler
