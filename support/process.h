// Running a subprocess: the one fork/exec of the project (the search's worker pool, the report's
// gnuplot, nos-bench's nos-search runs), so that every child starts, fails to start and is stopped
// the same way. POSIX (Linux: a child can be tied to its parent's life).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nos::support {

struct Subprocess {
  std::vector<std::string> argv{};  // argv[0]: the program's path (PATH is not searched: find_on_path)
  std::vector<std::string> env{};   // NAME=VALUE entries that replace or add to the inherited environment
  std::filesystem::path cwd{};      // where the child runs; empty: here
  std::filesystem::path log{};      // when set, its standard output and error are appended there
  int stderr_fd = -1;               // when no log: its standard error (a pipe's write end); -1 inherits
  bool quiet_stdout = false;        // when no log: its standard output goes to /dev/null
  bool own_process_group = false;   // a Ctrl-C on the terminal reaches this process, not the child
  bool die_with_parent = false;     // SIGTERM when this process dies, however it dies
};

// Starts the child; standard input is /dev/null. Throws FileError when `log` cannot be opened, and
// std::system_error when fork fails. A program that cannot be run (or a `cwd` it cannot enter)
// writes "cannot run PROGRAM: REASON" to the child's standard error and exits 127 (126).
pid_t spawn(const Subprocess& what);

// Waits for the child to end; its wait status.
int wait_for(pid_t pid);
// The child's wait status when it has ended, without waiting.
std::optional<int> poll_exit(pid_t pid);
// SIGTERM to each, then waits for them all: those still alive after `grace` get SIGKILL.
void stop_all(const std::vector<pid_t>& pids, std::chrono::duration<double> grace);

// Runs the child to its end, reading its standard error (its standard output is discarded):
// {wait status, what it wrote to standard error}.
struct Finished {
  int status = 0;
  std::string err;
};
Finished run_reading_stderr(Subprocess what);

// "exit status 3", "killed by signal 9 (SIGKILL)": how a wait status ended.
std::string describe_exit(int wait_status);
// Whether the wait status is a normal exit with status 0.
bool exited_ok(int wait_status);

// The path of this executable (/proc/self/exe), for starting children of the same build.
std::string self_executable();
// The first executable `program` in a directory of PATH.
std::optional<std::filesystem::path> find_on_path(std::string_view program);

}  // namespace nos::support
