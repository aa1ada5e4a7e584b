// A worker's life: claim the first queued task of a search, evaluate it, commit the result, again;
// a heartbeat thread (with its own database connection) keeps the lease alive during the
// evaluation and hands it back when the worker is asked to stop. What "evaluate" means is given
// (nos-search worker trains the child; tests give functions), so this part is torch-free.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "controller/search/storage.h"

namespace nos::search {

// Evaluates one claimed task. An exception is a failed attempt (Storage::abandon with its message):
// the task is retried, then stored `crashed`.
using TaskEvaluator = std::function<EvaluationResult(const ClaimedTask& task)>;

struct WorkerOptions {
  std::string owner;               // the lease holder's name: host/pid by default (worker_name())
  double poll_seconds = 0.1;       // between claims while the queue is empty
  double max_idle_seconds = 0;     // exit after this long without a task; 0: never
  std::int64_t max_tasks = 0;      // exit after this many; 0: no limit
  // Set (by a signal handler) to stop: an idle worker exits at once; a busy one hands its lease
  // back (release: not a failed attempt) and exits without finishing the evaluation.
  const std::atomic<bool>* stop = nullptr;
  // Logging: every evaluation's result; `refused` when its lease was no longer this worker's (the
  // database took the task back, e.g. while this worker could not reach it), so it was not accepted.
  std::function<void(const ClaimedTask&, const EvaluationResult&, double seconds, bool refused)> on_result;
};

struct WorkerSummary {
  std::int64_t evaluated = 0;  // results committed and accepted
  std::int64_t stale = 0;      // results refused: the lease was lost (presumed dead, taken over)
  std::int64_t failed = 0;     // evaluations that threw
  bool stopped = false;        // left because of `stop`
};

// `open` makes a fresh connection to the same database (for the heartbeat thread). Returns when
// stopped, idle or done; a busy worker that is stopped calls std::_Exit(exit_status_when_stopped)
// after releasing its lease, because an evaluation in progress cannot be interrupted.
WorkerSummary run_worker(Storage& storage, const std::function<std::unique_ptr<Storage>()>& open, SearchId search,
                         const TaskEvaluator& evaluate, const WorkerOptions& options, int exit_status_when_stopped = 0);

// "HOST/PID": unique among the live processes of every machine that shares a database.
std::string worker_name();
// Whether `owner` (a worker_name()) is a process of this machine that no longer exists.
bool is_dead_local_worker(const std::string& owner);

}  // namespace nos::search
