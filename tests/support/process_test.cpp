// support/process.h: the one way the project starts a subprocess (the worker pool, the report's
// gnuplot, nos-bench's nos-search runs): its log, environment, directory, standard error, a
// program that cannot run, stopping, and how an exit is described.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/atomic_file.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace nos::support;

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("nos-process-" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The program a process runs now (/proc/PID/comm).
fs::path comm_path(pid_t pid) { return fs::path("/proc") / std::to_string(pid) / "comm"; }

}  // namespace

TEST_CASE("spawn: output and error appended to the log, the environment changed, the directory entered") {
  ScratchDir dir;
  fs::path log = dir.path / "child.log";
  {
    std::ofstream(log) << "earlier\n";
  }
  ::setenv("NOS_PROCESS_TEST", "inherited", 1);
  ::setenv("NOS_PROCESS_KEPT", "kept", 1);
  pid_t pid = spawn({.argv = {"/bin/sh", "-c", "echo \"$NOS_PROCESS_TEST $NOS_PROCESS_KEPT $(pwd)\"; echo oops >&2; exit 4"},
                     .env = {"NOS_PROCESS_TEST=replaced"},
                     .cwd = dir.path,
                     .log = log});
  int status = wait_for(pid);
  CHECK(describe_exit(status) == "exit status 4");
  CHECK_FALSE(exited_ok(status));
  CHECK(slurp(log) == "earlier\nreplaced kept " + fs::canonical(dir.path).string() + "\noops\n");
}

TEST_CASE("spawn: a log that cannot be opened is a FileError naming it, a program that cannot run exits 127 saying so") {
  ScratchDir dir;
  fs::path log = dir.path / "missing" / "child.log";
  try {
    spawn({.argv = {"/bin/true"}, .log = log});
    FAIL("no error");
  } catch (const FileError& e) {
    CHECK(std::string(e.what()).find(log.string() + ": cannot open the log of /bin/true") == 0);
  }
  Finished missing = run_reading_stderr({.argv = {(dir.path / "no-such-program").string()}});
  CHECK(describe_exit(missing.status) == "exit status 127");
  CHECK(missing.err == "cannot run " + (dir.path / "no-such-program").string() + ": No such file or directory\n");
  Finished no_dir = run_reading_stderr({.argv = {"/bin/true"}, .cwd = dir.path / "missing"});
  CHECK(describe_exit(no_dir.status) == "exit status 126");
  CHECK(no_dir.err.find("cannot enter " + (dir.path / "missing").string()) == 0);
}

TEST_CASE("run_reading_stderr: standard error read to its end, standard output discarded") {
  Finished run = run_reading_stderr({.argv = {"/bin/sh", "-c", "echo out; echo err1 >&2; echo err2 >&2"}});
  CHECK(exited_ok(run.status));
  CHECK(run.err == "err1\nerr2\n");
}

TEST_CASE("poll_exit and stop_all: a running child, then one stopped by SIGTERM, one by SIGKILL after the grace") {
  pid_t polite = spawn({.argv = {"/bin/sleep", "30"}});
  // SIGTERM ignored, which exec keeps: only SIGKILL ends it. Waits until sleep runs (the trap is set).
  pid_t stubborn = spawn({.argv = {"/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 30"}});
  CHECK_FALSE(poll_exit(polite).has_value());
  for (int i = 0; i < 500 && slurp(comm_path(stubborn)).find("sleep") != 0; ++i) ::usleep(10'000);
  REQUIRE(slurp(comm_path(stubborn)).find("sleep") == 0);
  auto start = std::chrono::steady_clock::now();
  stop_all({polite, -1, stubborn}, std::chrono::milliseconds(300));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(took >= 0.3);  // the grace, then SIGKILL
  CHECK(took < 10);
  CHECK(::kill(polite, 0) != 0);  // reaped: gone
  CHECK(::kill(stubborn, 0) != 0);
}

TEST_CASE("describe_exit: a signal by number and name") {
  pid_t pid = spawn({.argv = {"/bin/sleep", "30"}});
  ::kill(pid, SIGKILL);
  CHECK(describe_exit(wait_for(pid)) == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("find_on_path and self_executable") {
  ScratchDir dir;
  fs::path tool = dir.path / "bin" / "nos-fake-tool";
  fs::create_directories(tool.parent_path());
  { std::ofstream(tool) << "#!/bin/sh\n"; }
  const char* saved = std::getenv("PATH");
  std::string old = saved ? saved : "";
  ::setenv("PATH", ("/nonexistent::" + (dir.path / "bin").string()).c_str(), 1);
  CHECK_FALSE(find_on_path("nos-fake-tool").has_value());  // not executable yet
  fs::permissions(tool, fs::perms::owner_all);
  CHECK(find_on_path("nos-fake-tool") == tool);
  CHECK_FALSE(find_on_path("bin").has_value());  // a directory is no program
  ::setenv("PATH", old.c_str(), 1);
  CHECK(fs::path(self_executable()).filename() == "test_support");
}
