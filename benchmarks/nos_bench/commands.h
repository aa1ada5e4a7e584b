// The subcommands of nos-bench. Each add_*_command registers its CLI11 subcommand; when that
// subcommand is chosen, `run` is set to the function that runs it and returns the exit status.
#pragma once

#include <functional>
#include <stdexcept>

#include <CLI/CLI.hpp>

namespace nos::bench {

enum Exit : int {
  kOk = 0,
  kInvalid = 1,  // an invalid rule or input (data files, device)
  kUsage = 2,    // a command-line mistake
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Runner = std::function<int()>;
void add_kernels_command(CLI::App& app, Runner& run);  // kernels.cpp
void add_compile_command(CLI::App& app, Runner& run);  // compile.cpp
void add_train_command(CLI::App& app, Runner& run);    // train.cpp

}  // namespace nos::bench
