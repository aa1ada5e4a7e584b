// What nos-bench's commands that drive nos-search as subprocesses (search, scaling) share: where
// the nos-search of the same build is, how a command line is shown, and the end of a log for an
// error message.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nos::bench {

// nos-search of the same build: beside this executable.
std::string default_nos_search();

// The arguments joined by spaces, as progress lines and records show a command.
std::string command_line(const std::vector<std::string>& args);

// The last `n` lines of a file, each indented by two spaces, for an error message.
std::string tail_of(const std::string& path, int n);

// Where a run's databases and logs go: `keep` (created if needed) or, when it is empty, a fresh
// temporary directory named after `prefix`, removed with this object. Throws
// std::invalid_argument naming --keep when `keep` cannot be created.
class WorkDir {
 public:
  WorkDir(const std::string& keep, const std::string& prefix);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool temporary_;
};

}  // namespace nos::bench
