#include "controller/search/worker_loop.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

namespace nos::search {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Heartbeats the lease of the task in progress from its own thread and connection (opened once);
// when the worker is asked to stop during an evaluation, hands that lease back and ends the process.
class Heartbeat {
 public:
  Heartbeat(const std::function<std::unique_ptr<Storage>()>& open, double interval, const std::atomic<bool>* stop,
            int exit_status)
      : storage_(open()), thread_([this, interval, stop, exit_status] {
          auto last = Clock::now();
          std::unique_lock lock(mutex_);
          while (!done_) {
            cv_.wait_for(lock, std::chrono::milliseconds(50));
            if (done_ || !lease_) continue;
            Lease lease = *lease_;
            const bool stopping = stop && stop->load();
            if (!stopping && seconds_since(last) < interval) continue;
            last = Clock::now();
            // The database is used without the lock: a reconnect may take minutes, and the
            // evaluation must be able to end (and its result wait for the database) meanwhile.
            lock.unlock();
            try {
              if (stopping) {
                storage_->release(lease);
                std::_Exit(exit_status);
              }
              storage_->heartbeat(lease);  // false: lost; the finish will be refused, nothing else to do
            } catch (const std::exception& e) {
              // The database stayed away longer than the storage retries: the lease expires and
              // the finish says what happened. A stopping worker exits anyway.
              if (stopping) std::_Exit(exit_status);
              std::fputs(fmt::format("heartbeat: {}\n", e.what()).c_str(), stderr);
            }
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void begin(const Lease& lease) {
    std::lock_guard lock(mutex_);
    lease_ = lease;
  }
  void end() {
    std::lock_guard lock(mutex_);
    lease_.reset();
  }

 private:
  std::unique_ptr<Storage> storage_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::optional<Lease> lease_;
  std::thread thread_;
};

}  // namespace

WorkerSummary run_worker(Storage& storage, const std::function<std::unique_ptr<Storage>()>& open, SearchId search,
                         const TaskEvaluator& evaluate, const WorkerOptions& options, int exit_status_when_stopped) {
  WorkerSummary summary;
  std::string owner = options.owner.empty() ? worker_name() : options.owner;
  auto idle_since = Clock::now();
  double lease_seconds = 120;
  for (const SearchInfo& s : storage.searches())
    if (s.id == search) lease_seconds = s.policy.lease_seconds;
  // A few heartbeats per lease, so that one late beat does not lose it.
  const double interval = std::max(0.05, std::min(lease_seconds / 4, 10.0));
  Heartbeat beat(open, interval, options.stop, exit_status_when_stopped);
  while (true) {
    if (options.stop && options.stop->load()) {
      summary.stopped = true;
      return summary;
    }
    std::optional<ClaimedTask> task = storage.claim(search, owner);
    if (!task) {
      if (options.max_idle_seconds > 0 && seconds_since(idle_since) > options.max_idle_seconds) return summary;
      // Woken by the database where it notifies (PostgreSQL), so a rare poll is a fallback only.
      storage.wait_for_work(search, storage.notifies() ? std::max(options.poll_seconds, 2.0) : options.poll_seconds);
      continue;
    }
    auto start = Clock::now();
    EvaluationResult result;
    bool ok = true;
    beat.begin(task->lease);
    try {
      result = evaluate(*task);
      result.stage = task->lease.stage;
      result.seed = task->lease.seed;
    } catch (const std::exception& e) {
      ok = false;
      result.status = Status::Crashed;
      result.detail = e.what();
    }
    beat.end();
    if (!ok) {
      storage.abandon(task->lease, result.detail);
      ++summary.failed;
    }
    bool refused = false;
    if (ok) {
      // Kept until written: a lost connection is retried inside the storage (PostgreSQL).
      if (storage.finish(task->lease, result)) ++summary.evaluated;
      else ++summary.stale, refused = true;
    }
    if (options.on_result) options.on_result(*task, result, seconds_since(start), refused);
    idle_since = Clock::now();
    if (options.max_tasks > 0 && summary.evaluated + summary.failed + summary.stale >= options.max_tasks) return summary;
  }
}

std::string worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}/{}", host, static_cast<long>(getpid()));
}

bool is_dead_local_worker(const std::string& owner) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return false;
  std::size_t slash = owner.rfind('/');
  if (slash == std::string::npos || owner.substr(0, slash) != host) return false;
  char* end = nullptr;
  long pid = std::strtol(owner.c_str() + slash + 1, &end, 10);
  if (!end || *end != '\0' || pid <= 0) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace nos::search
