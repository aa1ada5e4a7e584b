// How a rule is given on every tool's command line, so `--rule` means the same in nosc, nos-train
// and nos-bench:
//   --rule FILE|TEXT   a rule file (an existing path, or any name ending in .dsl), else the rule's text
//   -e, --expr TEXT    the rule's text
//   -t, --tokens SEQ   the rule in token form
//   --rule-name NAME   which rule of a file holding several
// nosc also takes the file as its positional FILE. Where a tool takes several rules (nos-bench),
// the options repeat and a file given without --rule-name contributes all its rules.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/compile.h"

namespace nos::tool {

struct RuleOptions {
  std::string file;                 // positional FILE (nosc)
  std::vector<std::string> rules;   // --rule
  std::vector<std::string> exprs;   // -e, --expr
  std::vector<std::string> tokens;  // -t, --tokens
  std::string rule_name;            // --rule-name

  bool given() const;
  // Every rule given, in the order FILE, --rule, -e, --tokens. Throws UsageError when --rule-name
  // is given without a rule file.
  std::vector<compiler::RuleSource> sources() const;
  // The one rule given: UsageError when there is none or more than one.
  compiler::RuleSource source() const;
};

struct RuleOptionsShape {
  bool positional_file = false;  // FILE as a positional argument
  bool repeatable = false;       // --rule, -e and --tokens may each be given several times
  std::string what = "the update rule";
};

void add_rule_options(CLI::App& app, RuleOptions& options, const RuleOptionsShape& shape);

// Writes the compile API's warnings (e.g. "can only produce NaN or infinity") to stderr.
void print_warnings(const compiler::CompiledRule& rule);

}  // namespace nos::tool
