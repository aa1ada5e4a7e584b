// nosc check: validate rules and print each in canonical form. nosc fmt: reprint rules as written,
// in the canonical layout.
#include <iostream>

#include "compiler/nosc/commands.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/printer.h"

namespace nos::nosc {

void add_check_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<RuleInput>();
  auto hash = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("check", "Validate rules; print each optimized rule as canonical text");
  input->add_options(*cmd, false);
  cmd->add_flag("--hash", *hash, "also print each rule's canonical hash");
  cmd->callback([&run, input, hash] {
    run = [input, hash] {
      for (const LoadedRule& loaded : load_rules(*input)) {
        ir::Function optimized = compile_rule(loaded, true);
        std::cout << ir::to_text(optimized);  // "name: text" for named rules
        if (*hash) std::cout << "  # " << ir::hash_hex(ir::canonical_hash(optimized));
        std::cout << '\n';
      }
      return int(kOk);
    };
  });
}

void add_fmt_command(CLI::App& app, Runner& run) {
  auto input = std::make_shared<RuleInput>();
  CLI::App* cmd = app.add_subcommand("fmt", "Print rules as written, in canonical layout (comments dropped)");
  input->add_options(*cmd, false);
  cmd->callback([&run, input] {
    run = [input] {
      for (const LoadedRule& loaded : load_rules(*input)) std::cout << dsl::print(loaded.rule) << '\n';
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
