// The subcommands of `nosc` and what they share: how a rule is given on the command line.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/ir.h"
#include "compiler/tool_main.h"
#include "dsl/ast.h"
#include "dsl/tokens.h"

namespace nos::nosc {

using tool::kInvalid;
using tool::kOk;
using tool::kUsage;
using tool::UsageError;

// A rule given as FILE, as -e EXPR, or as --tokens "op1 op2 u1 u2 b ...".
struct RuleInput {
  std::string file;
  std::string expr;
  std::string tokens;
  std::string rule_name;  // --rule: one rule of a file holding several

  void add_options(CLI::App& command, bool select_one);
};

struct LoadedRule {
  dsl::Rule rule;
  std::shared_ptr<const dsl::Source> source;
  std::optional<dsl::TokenSequence> tokens;  // when given as tokens, or when the text fits
};

// Throws dsl::Error for an invalid rule, UsageError for a bad combination of options.
std::vector<LoadedRule> load_rules(const RuleInput& input);
LoadedRule load_one_rule(const RuleInput& input);

// Lowers and optimizes; warns on stderr when the rule can only produce NaN/inf.
ir::Function compile_rule(const LoadedRule& loaded, bool warn_non_finite);

std::string display_name(const dsl::Rule& rule);  // the rule's name, or "<anonymous>"

using Runner = std::function<int()>;
void add_check_command(CLI::App& app, Runner& run);
void add_fmt_command(CLI::App& app, Runner& run);
void add_explain_command(CLI::App& app, Runner& run);
void add_eval_command(CLI::App& app, Runner& run);
void add_compile_command(CLI::App& app, Runner& run);
void add_verify_command(CLI::App& app, Runner& run);

}  // namespace nos::nosc
