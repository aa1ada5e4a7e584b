// What nos-bench's commands that drive nos-search as subprocesses (search, scaling) share: where
// the nos-search of the same build is, how a command line is shown, and the end of a log for an
// error message.
#pragma once

#include <string>
#include <vector>

namespace nos::bench {

// nos-search of the same build: beside this executable.
std::string default_nos_search();

// The arguments joined by spaces, as progress lines and records show a command.
std::string command_line(const std::vector<std::string>& args);

// The last `n` lines of a file, each indented by two spaces, for an error message.
std::string tail_of(const std::string& path, int n);

}  // namespace nos::bench
