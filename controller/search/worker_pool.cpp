#include "controller/search/worker_pool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

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
  pid_t pid = support::spawn({.argv = argv_, .log = log_path_, .own_process_group = true, .die_with_parent = true});
  return {pid, fmt::format("{}/{}", host_name(), static_cast<long>(pid)), restarts};
}

void WorkerPool::start(int count) {
  for (int i = 0; i < count; ++i) workers_.push_back(spawn(0));
}

std::vector<std::string> WorkerPool::poll(Storage& storage, SearchId search) {
  std::vector<std::string> lines;
  for (WorkerProcess& w : workers_) {
    std::optional<int> exited = support::poll_exit(w.pid);
    if (!exited) continue;
    int status = *exited;
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
  std::vector<pid_t> pids;
  for (const WorkerProcess& w : workers_) pids.push_back(w.pid);
  support::stop_all(pids, std::chrono::duration<double>(grace));
  // A worker hands its lease back when it stops; one that was killed could not.
  if (storage)
    for (const Lease& lease : storage->running(search))
      for (const WorkerProcess& w : workers_)
        if (lease.owner == w.owner) storage->release(lease);
  workers_.clear();
}

}  // namespace nos::search
