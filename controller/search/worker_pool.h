// The local worker processes of `nos-search run`: started as subprocesses (`nos-search worker`),
// watched, and restarted when one dies. A worker that dies during an evaluation costs that task one
// attempt (Storage::abandon_owner), so the candidate is evaluated again, then stored `crashed`
// after the lease policy's attempts. Workers die with the process that started them (they get
// SIGTERM when it exits, even by SIGKILL). Started through support/process.h. Torch-free; POSIX.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "controller/search/storage.h"
#include "support/process.h"

namespace nos::search {

struct WorkerProcess {
  pid_t pid = 0;
  std::string owner;  // worker_name() of the process: its leases' owner
  int restarts = 0;   // how many of its predecessors died
};

class WorkerPool {
 public:
  // `argv` starts a worker (which names its leases worker_name(): HOST/PID). Its standard output
  // and error go to `log_path` (appended).
  WorkerPool(std::vector<std::string> argv, std::string log_path);
  ~WorkerPool();  // stop()

  void start(int count);
  // Reaps dead workers: each one's leases become failed attempts, and a new worker takes its place.
  // Returns one line per death, for the progress output. Throws std::invalid_argument when workers
  // keep exiting before they take any task (they cannot start: see the log).
  std::vector<std::string> poll(Storage& storage, SearchId search);
  // SIGTERM, wait (then SIGKILL after `grace` seconds); leases still held go back to the queue.
  void stop(Storage* storage = nullptr, SearchId search = 0, double grace = 5);

  const std::vector<WorkerProcess>& workers() const { return workers_; }
  int deaths() const { return deaths_; }
  const std::string& log_path() const { return log_path_; }

 private:
  WorkerProcess spawn(int restarts);

  std::vector<std::string> argv_;
  std::string log_path_;
  std::vector<WorkerProcess> workers_;
  int deaths_ = 0;
};

// How a worker's wait status ended ("exit status 3"), and this executable, for starting workers of
// the same build: support/process.h's, one for every subprocess.
using support::describe_exit;
using support::self_executable;

}  // namespace nos::search
