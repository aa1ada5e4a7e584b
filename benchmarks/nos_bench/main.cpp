// nos-bench: how fast NOS's kernels are against LibTorch and the memory roofline, how long a rule
// takes to compile, how well its rules train next to LibTorch's optimizers, how fast the search runs
// and how many workers its database keeps busy.
//
//   nos-bench kernels --threads 2 --json kernels.json
//   nos-bench compile --json compile.json
//   nos-bench train --epochs 3 --seeds 3 --out bench-train
//   nos-bench controller --json controller.json
//   nos-bench search --workers 1,2 --time-budget 120 --json search.json
//   nos-bench scaling --workers 1,4,16,64 --postgres postgresql://nos@127.0.0.1/nos --json scaling.json
//
// Progress goes to stderr; results (tables) to stdout and, with --json/--out, to files.
// docs/benchmarks.md holds the latest numbers and what they mean.
#include <iostream>

#include "benchmarks/nos_bench/commands.h"
#include "dsl/diagnostic.h"

int main(int argc, char** argv) {
  using namespace nos::bench;
  CLI::App app{"nos-bench: benchmarks of NOS's fused update kernels, their compile latency, training quality, the search strategies' cost, the search's throughput and how many workers its database keeps busy."};
  app.name("nos-bench");
  app.require_subcommand(1);
  app.footer("Exit status: 0 success, 1 invalid rule or input, 2 usage error, 3 internal error.\n"
             "Run 'nos-bench COMMAND --help' for a command's options.");
  Runner run;
  add_kernels_command(app, run);
  add_compile_command(app, run);
  add_train_command(app, run);
  add_controller_command(app, run);
  add_search_command(app, run);
  add_scaling_command(app, run);

  return nos::tool::run_main(app, argc, argv, [&] { return run(); });
}
