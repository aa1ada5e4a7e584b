// The subcommands of nos-bench. Each add_*_command registers its CLI11 subcommand; when that
// subcommand is chosen, `run` is set to the function that runs it and returns the exit status.
#pragma once

#include <functional>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "tools/rule_options.h"
#include "tools/tool_main.h"

namespace nos::bench {

using tool::kInvalid;
using tool::kOk;
using tool::kUsage;
using tool::UsageError;

using Runner = std::function<int()>;
void add_kernels_command(CLI::App& app, Runner& run);  // kernels.cpp
void add_compile_command(CLI::App& app, Runner& run);  // compile.cpp
void add_train_command(CLI::App& app, Runner& run);    // train.cpp
void add_controller_command(CLI::App& app, Runner& run);  // controller.cpp
void add_search_command(CLI::App& app, Runner& run);      // search.cpp
void add_scaling_command(CLI::App& app, Runner& run);     // scaling.cpp

}  // namespace nos::bench
