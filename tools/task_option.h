// --task FILE beside a tool's own task options (--model, --data, --epochs, ...): the file's task
// (runtime/task_file.h), then each of those options given on the command line replaces its key,
// as `nos-search run --config` works. nos-train, nos-bench train and nos-search final share it;
// nos-search run has its own table (run_options.cpp) over the same reader.
#pragma once

#include <span>
#include <string>

#include <CLI/CLI.hpp>

#include "runtime/task.h"

namespace nos::tool {

// Registers --task FILE on `app`, into `path`.
CLI::Option* add_task_option(CLI::App& app, std::string& path);

// The options a task file's keys stand for, as CLI11 names them, and the key each sets.
struct TaskOptionKey {
  const char* flag;  // "--train-subset"
  const char* key;   // "train_subset"
};
std::span<const TaskOptionKey> task_option_keys();

// `task` holds the command line's values (the tool's defaults where none was given). With `path`
// set, it becomes the file's task over `defaults`, then the values of the options of `app` the
// command line gave (task_option_keys) are put back. Throws std::invalid_argument naming the file
// and the key (exit 1).
void apply_task_file(const CLI::App& app, const std::string& path, const runtime::TaskSpec& defaults,
                     runtime::TaskSpec& task);

}  // namespace nos::tool
