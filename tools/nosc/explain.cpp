// nosc explain: every stage of the pipeline for a rule, from tokens to the canonical hash.
#include <fmt/format.h>

#include "tools/nosc/commands.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/printer.h"

namespace nos::nosc {
namespace {

void explain(const compiler::ParsedRule& parsed, const compiler::CompiledRule& rule) {
  const ir::Function& optimized = rule.optimized;
  fmt::print("rule {}\n", rule.display_name());
  fmt::print("text:    {}\n", dsl::print(*parsed.rule.body));
  if (rule.tokens)
    fmt::print("tokens:  {}\n", dsl::print_tokens(*rule.tokens));
  else
    fmt::print("tokens:  (does not fit the token form)\n");

  fmt::print("\n== lowered ==\n{}", ir::dump(rule.lowered));
  for (const ir::PassRecord& record : rule.trace) fmt::print("\n== after {} ==\n{}", record.pass, ir::dump(record.after));

  std::string states;
  for (const ir::StateSlot& s : optimized.states)
    states += fmt::format(" {} (beta {}{}", ir::state_name(s.power), s.beta, s.bias_correction ? ", bias-corrected)" : ", raw)");
  fmt::print("\nstate buffers:{}\n", states.empty() ? " none" : states);
  int bytes = ir::bytes_per_param(optimized);
  fmt::print("bytes per parameter per step (f32): {} = w 8 + g 4 + state {}\n", bytes, bytes - 12);
  fmt::print("needs total steps T: {}\n", ir::needs_total_steps(optimized) ? "yes" : "no");
  fmt::print("canonical text: {}\n", ir::to_text(optimized));
  fmt::print("canonical hash: {}\n", rule.hash_hex());
  ir::Function kernel_form = ir::lower_sign_lookups(optimized);
  if (!(kernel_form == optimized)) fmt::print("\n== for code generation: sign lookups ==\n{}", ir::dump(kernel_form));
}

}  // namespace

void add_explain_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<tool::RuleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain", "Show tokens, the IR before and after each pass, state kept, bytes moved, the hash");
  add_rule_input(*cmd, *input);
  cmd->callback([&run, input] {
    run = [input] {
      bool first = true;
      for (const compiler::ParsedRule& parsed : compiler::parse(input->source())) {
        if (!first) fmt::print("\n");
        first = false;
        compiler::CompiledRule rule = compiler::compile(parsed, {.trace = true});
        tool::print_warnings(rule);
        explain(parsed, rule);
      }
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
