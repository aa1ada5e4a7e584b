// nos-search processes in the background for end-to-end tests of workers and controllers: start
// one with its output in a log, stop and continue it, wait for its exit, and poll a search's
// database (an SQLite file or a PostgreSQL URL, read-only, as another terminal would) until
// something holds.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/search/storage.h"

namespace nos::search::testing {

// Starts the executable `exe` with `args` and the environment's `env` ("NAME=value") added, its
// standard output and error to `log`.
inline pid_t start_process(const std::string& exe, const std::vector<std::string>& args, const std::string& log,
                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> all{exe};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::fflush(stdout);  // or the child would write the parent's buffered output again
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void)out;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    for (std::string& e : env_copy) putenv(e.data());
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Starts build/bin/nos-search with `args`, its standard output and error to `log`.
inline pid_t start_nos_search(const std::vector<std::string>& args, const std::string& log) {
  return start_process(std::string(NOS_BINARY_DIR) + "/bin/nos-search", args, log);
}

// The exit status, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string read_log(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls the database until `ready(storage, search)` holds for its first search; false after
// `seconds`.
template <class Ready>
bool poll_search(const std::string& db, Ready ready, double seconds = 60) {
  const bool url = db.starts_with("postgresql://");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (url || std::filesystem::exists(db)) {
      try {
        auto storage = open_storage(db, OpenMode::ReadOnly);
        std::vector<SearchInfo> searches = storage->searches();
        if (!searches.empty() && ready(*storage, searches[0].id)) return true;
      } catch (const StorageError&) {
        // created but not yet initialized: try again
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// The process id in a worker_name() ("HOST/PID").
inline pid_t pid_of_owner(const std::string& owner) {
  return static_cast<pid_t>(std::stol(owner.substr(owner.rfind('/') + 1)));
}

}  // namespace nos::search::testing
