// Runs one of the project's executables and captures what it says, for end-to-end tests.
#pragma once

#include <string>
#include <vector>

namespace nos::testing {

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs build/bin/<tool> with args (no shell); `input` is written to its standard input, `env`
// ("NAME=value") is added to its environment.
ToolResult run_tool(const std::string& tool, const std::vector<std::string>& args, const std::string& input = "",
                    const std::vector<std::string>& env = {});
// The same with standard output going to `stdout_path` (e.g. /dev/full); ToolResult::out stays empty.
ToolResult run_tool_to(const std::string& stdout_path, const std::string& tool, const std::vector<std::string>& args);
// Runs any executable by its path (e.g. /bin/bash with a script of the source tree), as run_tool.
ToolResult run_program(const std::string& path, const std::vector<std::string>& args, const std::string& input = "",
                       const std::vector<std::string>& env = {});

// run_tool under timeout(1): a regression that makes a tool work for minutes (or hang) on an
// input it should refuse fails the test (exit 124) instead of stalling the suite.
ToolResult run_tool_bounded(const std::string& tool, const std::vector<std::string>& args, int seconds = 60);
// build/bin/<tool>
std::string binary_path(const std::string& tool);

std::string source_path(const std::string& relative);  // a path inside the source tree
std::string temp_file(const std::string& name, const std::string& content);  // written under the build tree

}  // namespace nos::testing
