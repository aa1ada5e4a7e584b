#include "controller/search/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "controller/search/worker_loop.h"

namespace nos::search {
namespace {

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

}  // namespace

WorkerPool::WorkerPool(std::vector<std::string> argv, std::string log_path)
    : argv_(std::move(argv)), log_path_(std::move(log_path)) {}

WorkerPool::~WorkerPool() { stop(); }

WorkerProcess WorkerPool::spawn(int restarts) {
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::invalid_argument(fmt::format("{}: cannot open the workers' log: {}", log_path_, std::strerror(errno)));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    throw std::runtime_error(fmt::format("cannot start a worker process: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // A worker must not outlive its search: SIGTERM when the parent dies, however it dies.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    setpgid(0, 0);  // its own process group: a Ctrl-C on the terminal reaches `run`, which stops it
    execv(args[0], args.data());
    _exit(127);
  }
  close(log);
  return {pid, fmt::format("{}/{}", host_name(), static_cast<long>(pid)), restarts};
}

void WorkerPool::start(int count) {
  for (int i = 0; i < count; ++i) workers_.push_back(spawn(0));
}

std::vector<std::string> WorkerPool::poll(Storage& storage, SearchId search) {
  std::vector<std::string> lines;
  for (WorkerProcess& w : workers_) {
    int status = 0;
    pid_t r = waitpid(w.pid, &status, WNOHANG);
    if (r != w.pid) continue;
    ++deaths_;
    std::string how = describe_exit(status);
    int lost = storage.abandon_owner(search, w.owner, fmt::format("worker {} died: {}", w.owner, how));
    lines.push_back(fmt::format("worker {} died ({}){}; restarting it (log: {})", w.owner, how,
                                lost ? fmt::format(", its task counts a failed attempt", lost) : "", log_path_));
    // A worker that cannot even start (bad data, a broken build) would die again at once.
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3 && lost == 0 && w.restarts >= 2)
      throw std::invalid_argument(
          fmt::format("worker processes keep exiting with {} before taking a task: see {}", how, log_path_));
    w = spawn(w.restarts + 1);
  }
  return lines;
}

void WorkerPool::stop(Storage* storage, SearchId search, double grace) {
  for (const WorkerProcess& w : workers_) kill(w.pid, SIGTERM);
  auto start = std::chrono::steady_clock::now();
  for (const WorkerProcess& w : workers_) {
    while (true) {
      int status = 0;
      pid_t r = waitpid(w.pid, &status, WNOHANG);
      if (r == w.pid || (r < 0 && errno == ECHILD)) break;
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > grace) {
        kill(w.pid, SIGKILL);
        waitpid(w.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // A worker hands its lease back when it stops; one that was killed could not.
  if (storage)
    for (const Lease& lease : storage->running(search))
      for (const WorkerProcess& w : workers_)
        if (lease.owner == w.owner) storage->release(lease);
  workers_.clear();
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

std::string self_executable() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) throw std::runtime_error("cannot find this executable (/proc/self/exe)");
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace nos::search
