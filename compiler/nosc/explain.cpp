// nosc explain: every stage of the pipeline for a rule, from tokens to the canonical hash.
#include <iostream>

#include "compiler/lower.h"
#include "compiler/nosc/commands.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/printer.h"

namespace nos::nosc {
namespace {

void explain(const LoadedRule& loaded) {
  const dsl::Rule& rule = loaded.rule;
  std::cout << "rule " << display_name(rule) << '\n';
  std::cout << "text:    " << dsl::print(*rule.body) << '\n';
  if (loaded.tokens)
    std::cout << "tokens:  " << dsl::print_tokens(*loaded.tokens) << '\n';
  else
    std::cout << "tokens:  (does not fit the token form)\n";

  ir::Function lowered = ir::lower(rule);
  std::cout << "\n== lowered ==\n" << ir::dump(lowered);
  std::vector<ir::PassRecord> trace;
  ir::Function optimized = ir::optimize(lowered, &trace);
  for (const ir::PassRecord& record : trace) std::cout << "\n== after " << record.pass << " ==\n" << ir::dump(record.after);

  std::cout << "\nstate buffers:";
  if (optimized.states.empty()) std::cout << " none";
  for (const ir::StateSlot& s : optimized.states)
    std::cout << ' ' << ir::state_name(s.power) << " (beta " << s.beta
              << (s.bias_correction ? ", bias-corrected)" : ", raw)");
  std::cout << '\n';
  int bytes = ir::bytes_per_param(optimized);
  std::cout << "bytes per parameter per step (f32): " << bytes << " = w 8 + g 4 + state "
            << bytes - 12 << '\n';
  std::cout << "needs total steps T: " << (ir::needs_total_steps(optimized) ? "yes" : "no") << '\n';
  std::cout << "canonical text: " << ir::to_text(optimized) << '\n';
  std::cout << "canonical hash: " << ir::hash_hex(ir::canonical_hash(optimized)) << '\n';
  ir::Function kernel_form = ir::lower_sign_lookups(optimized);
  if (!(kernel_form == optimized))
    std::cout << "\n== for code generation: sign lookups ==\n" << ir::dump(kernel_form);
}

}  // namespace

void add_explain_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<RuleInput>();
  CLI::App* cmd = app.add_subcommand(
      "explain", "Show tokens, the IR before and after each pass, state kept, bytes moved, the hash");
  input->add_options(*cmd, false);
  cmd->callback([&run, input] {
    run = [input] {
      bool first = true;
      for (const LoadedRule& loaded : load_rules(*input)) {
        if (!first) std::cout << '\n';
        first = false;
        compile_rule(loaded, true);  // for the NaN warning
        explain(loaded);
      }
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
