// The subcommands of `nosc`. Each add_*_command registers its CLI11 subcommand; when it is chosen,
// `run` is set to the function that does its work and returns the exit status. Rules come in
// through tools/rule_options.h (FILE, --rule, -e, --tokens, --rule-name) and are compiled by the
// one compile API (compiler/compile.h).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "compiler/compile.h"
#include "tools/rule_options.h"
#include "tools/tool_main.h"

namespace nos::nosc {

using tool::kInvalid;
using tool::kOk;
using tool::kUsage;
using tool::UsageError;

// nosc's rule options: the positional FILE too, one source (a file may hold several rules).
inline void add_rule_input(CLI::App& command, tool::RuleOptions& options) {
  tool::add_rule_options(command, options, {.positional_file = true, .repeatable = false, .what = "the rule"});
}

using Runner = std::function<int()>;
void add_check_command(CLI::App& app, Runner& run);
void add_fmt_command(CLI::App& app, Runner& run);
void add_explain_command(CLI::App& app, Runner& run);
void add_eval_command(CLI::App& app, Runner& run);
void add_compile_command(CLI::App& app, Runner& run);
void add_verify_command(CLI::App& app, Runner& run);

}  // namespace nos::nosc
