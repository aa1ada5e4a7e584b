// nosc: the NOS rule compiler driver. Each subcommand stops the pipeline at one stage:
//   check / fmt (text), explain (tokens, IR after every pass, hash), compile (kernels),
//   eval (run a rule on a backend), verify (every backend against the interpreter).
#include <iostream>

#include "compiler/nosc/commands.h"
#include "dsl/diagnostic.h"

int main(int argc, char** argv) {
  using namespace nos::nosc;
  CLI::App app{"nosc: compile and inspect NOS optimizer update rules.\n"
               "A rule is text such as 'exp(sign(g) * sign(m)) * g' (see docs/dsl.md),\n"
               "given as FILE, as -e EXPR, or in token form as --tokens."};
  app.name("nosc");
  app.require_subcommand(1);
  app.footer("Exit status: 0 success, 1 invalid rule or input file, 2 usage error.");
  Runner run;
  add_check_command(app, run);
  add_fmt_command(app, run);
  add_explain_command(app, run);
  add_eval_command(app, run);
  add_compile_command(app, run);
  add_verify_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  try {
    return run();
  } catch (const nos::dsl::Error& e) {
    std::cerr << e.diagnostic().render();
    return kInvalid;
  } catch (const UsageError& e) {
    std::cerr << "nosc: error: " << e.what() << "\nRun 'nosc --help' for usage.\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "nosc: internal error: " << e.what() << '\n';
    return 3;
  }
}
