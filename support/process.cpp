#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "support/atomic_file.h"

extern char** environ;

namespace nos::support {
namespace {

namespace fs = std::filesystem;

// After fork only async-signal-safe calls: write(2), not stdio.
void say(int fd, const std::string& prefix, int error) {
  const char* reason = std::strerror(error);
  ssize_t ignored = ::write(fd, prefix.data(), prefix.size());
  ignored = ::write(fd, reason, std::strlen(reason));
  ignored = ::write(fd, "\n", 1);
  (void)ignored;
}

std::vector<std::string> environment(const std::vector<std::string>& changes) {
  std::vector<std::string> env = changes;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const std::string& c : changes) {
      std::string name = c.substr(0, c.find('=')) + "=";
      if (entry.substr(0, name.size()) == name) replaced = true;
    }
    if (!replaced) env.emplace_back(entry);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

pid_t spawn(const Subprocess& what) {
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> args = what.argv;
  std::vector<char*> argv = pointers(args);
  std::vector<std::string> env_strings = environment(what.env);
  std::vector<char*> envp = pointers(env_strings);
  const std::string cannot_run = fmt::format("cannot run {}: ", args.empty() ? "" : args[0]);
  const std::string cannot_enter = fmt::format("cannot enter {}: ", what.cwd.string());
  int log = -1;
  if (!what.log.empty()) {
    log = ::open(what.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0)
      throw FileError(errno, fmt::format("{}: cannot open the log of {}", what.log.string(), args.empty() ? "" : args[0]));
  }
  std::fflush(stdout);  // what this process printed must not be printed again by the child
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    if (log >= 0) ::close(log);
    throw std::system_error(error, std::generic_category(), "cannot start a subprocess (fork)");
  }
  if (pid == 0) {
    if (what.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
    }
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    } else {
      if (what.stderr_fd >= 0) ::dup2(what.stderr_fd, STDERR_FILENO);
      if (what.quiet_stdout && null >= 0) ::dup2(null, STDOUT_FILENO);
    }
    if (what.own_process_group) ::setpgid(0, 0);
    if (!what.cwd.empty() && ::chdir(what.cwd.c_str()) != 0) {
      say(STDERR_FILENO, cannot_enter, errno);
      ::_exit(126);
    }
    if (!args.empty()) ::execve(argv[0], argv.data(), envp.data());
    say(STDERR_FILENO, cannot_run, errno);
    ::_exit(127);
  }
  if (log >= 0) ::close(log);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), fmt::format("waitpid {}", pid));
  }
  return status;
}

std::optional<int> poll_exit(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return status;
  return std::nullopt;
}

void stop_all(const std::vector<pid_t>& pids, std::chrono::duration<double> grace) {
  for (pid_t pid : pids)
    if (pid > 0) ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    while (true) {
      int status = 0;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

Finished run_reading_stderr(Subprocess what) {
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  what.log.clear();
  what.stderr_fd = err[1];
  what.quiet_stdout = true;
  pid_t pid;
  try {
    pid = spawn(what);
  } catch (...) {
    ::close(err[0]);
    ::close(err[1]);
    throw;
  }
  ::close(err[1]);
  Finished out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(err[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.err.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(err[0]);
  out.status = wait_for(pid);
  return out;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return fmt::format("killed by signal {}{}", sig, name ? fmt::format(" (SIG{})", name) : "");
  }
  return fmt::format("wait status {}", status);
}

bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string self_executable() {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) throw std::runtime_error("cannot find this executable (/proc/self/exe)");
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::optional<fs::path> find_on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "";
  while (!dirs.empty()) {
    std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / program;
    std::error_code ec;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

}  // namespace nos::support
