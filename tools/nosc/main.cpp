// nosc: the NOS rule compiler driver. Each subcommand stops the pipeline at one stage:
//   check / fmt (text), explain (tokens, IR after every pass, hash), compile (kernels),
//   eval (run a rule on a backend), verify (every backend against the interpreter).
#include "tools/nosc/commands.h"

int main(int argc, char** argv) {
  using namespace nos::nosc;
  CLI::App app{"nosc: compile and inspect NOS optimizer update rules.\n"
               "A rule is text such as 'exp(sign(g) * sign(m)) * g' (see docs/dsl.md),\n"
               "given as FILE, as -e EXPR, or in token form as --tokens."};
  app.name("nosc");
  app.require_subcommand(1);
  app.footer("Exit status: 0 success, 1 invalid rule or input file, 2 usage error, 3 internal error.");
  Runner run;
  add_check_command(app, run);
  add_fmt_command(app, run);
  add_explain_command(app, run);
  add_eval_command(app, run);
  add_compile_command(app, run);
  add_verify_command(app, run);

  return nos::tool::run_main(app, argc, argv, [&] { return run(); });
}
