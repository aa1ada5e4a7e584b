// nosc check: validate rules and print each in canonical form. nosc fmt: reprint rules as written,
// in the canonical layout.
#include <fmt/format.h>

#include "tools/nosc/commands.h"
#include "dsl/printer.h"

namespace nos::nosc {

void add_check_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<tool::RuleOptions>();
  auto hash = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("check", "Validate rules; print each optimized rule as canonical text");
  add_rule_input(*cmd, *input);
  cmd->add_flag("--hash", *hash, "also print each rule's canonical hash");
  cmd->callback([&run, input, hash] {
    run = [input, hash] {
      for (const compiler::ParsedRule& parsed : compiler::parse(input->source())) {
        compiler::CompiledRule rule = compiler::compile(parsed);
        tool::print_warnings(rule);
        std::string line = rule.name.empty() ? rule.canonical_text : rule.name + ": " + rule.canonical_text;
        if (*hash) line += "  # " + rule.hash_hex();
        fmt::print("{}\n", line);
      }
      return int(kOk);
    };
  });
}

void add_fmt_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<tool::RuleOptions>();
  CLI::App* cmd = app.add_subcommand("fmt", "Print rules as written, in canonical layout (comments dropped)");
  add_rule_input(*cmd, *input);
  cmd->callback([&run, input] {
    run = [input] {
      for (const compiler::ParsedRule& parsed : compiler::parse(input->source()))
        fmt::print("{}\n", dsl::print(parsed.rule));
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
