// A task file: one JSON object of task.h's keys (what to_json(TaskSpec) writes), given to every tool
// as --task FILE. Read here, once for all of them. Torch-free.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/task.h"

namespace nos::runtime {

// A task is a few hundred bytes; a file larger than this is not one.
inline constexpr std::size_t kMaxTaskFileBytes = std::size_t{1} << 20;

// The task `path` holds, over `base`: a key the file leaves out keeps base's value (the tool's
// default, or the search's task for `final`). Relative paths in it (a TorchScript model, the data's
// files) are taken relative to the file's directory and made absolute, so that the task means the
// same from any working directory or machine; built-in names (mlp, fashion-mnist) stay names.
// Throws std::invalid_argument "PATH: key: problem" for a file that is not a regular file, is
// larger than kMaxTaskFileBytes, is not JSON or not an object, holds an unknown key, a value of
// the wrong type or out of range (task_problem).
TaskSpec read_task_file(const std::string& path, const TaskSpec& base = {});

}  // namespace nos::runtime
