// nos-bench scaling: how many workers one database keeps busy (issue 12, "Measure"). For each
// backend (an SQLite file, a PostgreSQL URL) and each worker count it starts that many
// `nos-search worker` processes (the built one, beside nos-bench) on a search with the synthetic
// child (sleeps --child-seconds, no CPU), waits until every worker holds a lease, measures a
// window of --duration seconds, stops the workers (SIGTERM: they hand their leases back) and reads
// the stored attempts (scaling_stats.h): evaluations per second against the ideal workers /
// child seconds, and the claim latency. Side by side in one run, one JSON document.
//
// Two modes:
//   queue   (default) the benchmark keeps the queue full of distinct placeholder candidates
//           itself (never fewer than the workers take in 5 s), so only the queue, the leases and
//           the commits are measured: what the database and the workers can do.
//   search  a real `nos-search run --workers 0` proposes (intake: compile, probes, screening)
//           while the workers train: the whole search, whose controller may be the limit.
//
//   nos-bench scaling --workers 1,4,16,64 --postgres postgresql://nos@127.0.0.1/nos --json scaling.json
//   nos-bench scaling --mode search --workers 16 --backends sqlite
//
// Progress goes to stderr, the table to stdout, the records to --json.
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <optional>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/child_process.h"
#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/scaling_stats.h"
#include "benchmarks/nos_bench/timing.h"
#include "controller/search/search_config.h"
#include "controller/search/storage.h"
#include "support/atomic_file.h"
#include "support/process.h"
#include "tools/options.h"
#include "runtime/json_text.h"

namespace nos::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct ScalingOptions {
  std::vector<int> workers{1, 4, 16, 64};
  double child_seconds = 1;
  double duration = 60;
  double warmup = -1;  // < 0: 2 s + one child
  std::vector<std::string> backends;  // default: sqlite, and postgresql with --postgres
  std::string postgres;
  std::string mode = "queue";
  std::string strategy = "random";
  int batch = 0;  // search mode; 0: 4 x workers (at least 20)
  double startup_timeout = 180;
  std::string json;
  std::string keep;
  std::string nos_search;
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Starts args with its standard output and error appended to `log`; does not wait.
pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log) {
  return support::spawn({.argv = args, .log = log});
}

// The processes a run started: stopped (SIGTERM, then SIGKILL after `grace`) and reaped when it
// ends, however it ends.
class Processes {
 public:
  ~Processes() { stop(5s); }
  void add(pid_t pid) { pids_.push_back(pid); }
  const std::vector<pid_t>& pids() const { return pids_; }
  // The first one that has exited already, with its wait status.
  std::optional<std::pair<pid_t, int>> exited() {
    for (pid_t& pid : pids_) {
      std::optional<int> status = pid > 0 ? support::poll_exit(pid) : std::nullopt;
      if (status) return std::make_pair(std::exchange(pid, -1), *status);
    }
    return std::nullopt;
  }
  void stop(std::chrono::milliseconds grace) {
    support::stop_all(pids_, grace);
    for (pid_t& pid : pids_) pid = -1;
  }

 private:
  std::vector<pid_t> pids_;
};

// Resident memory of the processes (kB from /proc: all of it, and the anonymous part that is each
// process's own; the rest is mostly LibTorch's shared library pages, shared between them).
struct Memory {
  double rss_mb = 0, anon_mb = 0;
  int processes = 0;
};
Memory memory_of(const std::vector<pid_t>& pids) {
  Memory m;
  for (pid_t pid : pids) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    bool any = false;
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string key;
      double kb = 0;
      words >> key >> kb;
      if (key == "VmRSS:") m.rss_mb += kb / 1024, any = true;
      if (key == "RssAnon:") m.anon_mb += kb / 1024;
    }
    m.processes += any;
  }
  return m;
}

// The search's configuration as `nos-search run` would store it: the synthetic child, no local
// workers.
std::string synthetic_config(double child_seconds) {
  search::SearchConfig c;
  c.strategy = "random";
  c.child.synthetic = child_seconds;
  c.workers = 0;
  return json_text(search::to_json(c));
}

// `count` distinct placeholder candidates, numbered from `first`: the synthetic child reads only
// the hash.
std::vector<search::NewCandidate> placeholder_candidates(std::int64_t first, std::int64_t count) {
  std::vector<search::NewCandidate> out(count);
  for (std::int64_t i = 0; i < count; ++i) {
    out[i].rule = fmt::format("placeholder {}", first + i);
    out[i].hash = fmt::format("{:016x}", static_cast<std::uint64_t>(first + i) * 0x9E3779B97F4A7C15ULL);
  }
  return out;
}

// The queue mode's supply: keeps at least `low` tasks queued (a batch of `low` more whenever
// fewer are left), as a controller far faster than the workers would.
class QueueFiller {
 public:
  QueueFiller(search::Storage& storage, search::SearchId search, std::int64_t low)
      : storage_(storage), search_(search), low_(low) {}
  void top_up() {
    if (storage_.counts(search_).queued >= low_) return;
    storage_.enqueue_batch(search_, batches_++, placeholder_candidates(filled_, 2 * low_));
    filled_ += 2 * low_;
    storage_.checkpoint();  // as the search does after each batch (SQLite's WAL), not in a worker's commit
  }
  std::int64_t filled() const { return filled_; }
  std::int64_t batches() const { return batches_; }

 private:
  search::Storage& storage_;
  search::SearchId search_;
  std::int64_t low_;
  std::int64_t filled_ = 0, batches_ = 0;
};

struct Run {
  std::string backend, location, shown, name;
};

// Opens the storage a run writes; for `nos-search run`'s SQLite file, once it exists.
std::unique_ptr<search::Storage> open_when_ready(const std::string& location, Processes& procs, const std::string& log,
                                                 double timeout, const std::string& name, search::SearchId& id) {
  auto start = std::chrono::steady_clock::now();
  while (true) {
    if (auto gone = procs.exited())
      throw std::invalid_argument(fmt::format("nos-search run ended before the search started; its output, {}:\n{}",
                                              log, tail_of(log, 15)));
    try {
      auto storage = search::open_storage(location, search::OpenMode::Open);
      if (auto info = storage->find_search(name)) {
        id = info->id;
        return storage;
      }
    } catch (const search::StorageError&) {
      // not created yet
    }
    if (seconds_since(start) > timeout)
      throw std::invalid_argument(fmt::format("nos-search run did not create search '{}' in {} s; its output, {}:\n{}", name,
                                              timeout, log, tail_of(log, 15)));
    std::this_thread::sleep_for(100ms);
  }
}

nlohmann::json measure(const ScalingOptions& o, const Run& run, int workers, const fs::path& dir, ScalingStats& out) {
  const std::string log = (dir / (run.name + ".log")).string();
  const double child = o.child_seconds;
  const double warmup = o.warmup >= 0 ? o.warmup : 2 + child;
  Processes controller, procs;
  std::unique_ptr<search::Storage> storage;
  search::SearchId id = 0;
  std::optional<QueueFiller> filler;
  std::vector<std::string> run_args;
  if (o.mode == "queue") {
    storage = search::open_storage(run.location, search::OpenMode::OpenOrCreate);
    id = storage->create_search(run.name, synthetic_config(child), search::LeasePolicy{});
    // Never dry between two looks (every 0.2 s): what the workers take in 5 s, at least 2 each.
    filler.emplace(*storage, id, std::max<std::int64_t>(2 * workers, static_cast<std::int64_t>(std::ceil(workers * 5 / child))));
    filler->top_up();
  } else {
    const int batch = o.batch > 0 ? o.batch : std::max(20, 4 * workers);
    run_args = {o.nos_search, "run", "--db", run.location, "--name", run.name, "--workers", "0", "--child",
                fmt::format("synthetic:{:g}", child), "--strategy", o.strategy, "--batch", std::to_string(batch),
                "--budget", "100000000", "--seed", "1", "--no-report", "--no-baseline", "--quiet"};
    controller.add(spawn_logged(run_args, log));
    storage = open_when_ready(run.location, controller, log, o.startup_timeout, run.name, id);
  }
  const std::vector<std::string> worker_args{o.nos_search, "worker", "--db", run.location, "--search", run.name, "--quiet"};
  const double spawned = unix_now();
  for (int i = 0; i < workers; ++i) procs.add(spawn_logged(worker_args, log));
  // Start-up: until every worker has held a lease (LibTorch loads in each).
  std::set<std::string> owners;
  auto start = std::chrono::steady_clock::now();
  while (static_cast<int>(owners.size()) < workers) {
    if (auto gone = procs.exited())
      throw std::invalid_argument(fmt::format("a worker exited during start-up (status {}); the output, {}:\n{}", gone->second,
                                              log, tail_of(log, 15)));
    if (seconds_since(start) > o.startup_timeout) {
      if (o.mode == "queue")
        throw std::invalid_argument(fmt::format("only {} of {} workers took a task within {} s (--startup-timeout); the output, {}:\n{}",
                                                owners.size(), workers, o.startup_timeout, log, tail_of(log, 15)));
      break;  // the whole search: the controller may not feed them all; measured anyway
    }
    // A lease held now, or an attempt finished since the last look (a short child).
    for (const search::Lease& l : storage->running(id)) owners.insert(l.owner);
    for (const search::Evaluation& e : storage->evaluations(id))
      if (e.task != 0) owners.insert(e.worker);
    if (filler) filler->top_up();
    std::this_thread::sleep_for(200ms);
  }
  const double all_started = unix_now();
  const double window_start = all_started + warmup, window_end = window_start + o.duration;
  std::cerr << fmt::format("nos-bench scaling: {} {}: {} worker(s) started in {:.1f} s; measuring {:g} s ...\n", run.backend,
                           o.mode, owners.size(), all_started - spawned, o.duration)
            << std::flush;
  // Until the window's end: the queue topped up, the workers watched, their memory taken half way.
  Memory memory;
  double load_mid = 0;
  bool sampled = false;
  while (unix_now() < window_end) {
    if (filler) filler->top_up();
    if (auto gone = procs.exited())
      throw std::invalid_argument(fmt::format("a worker exited during the measurement (status {}); the output, {}:\n{}",
                                              gone->second, log, tail_of(log, 15)));
    if (!sampled && unix_now() >= window_start + o.duration / 2) {
      memory = memory_of(procs.pids());
      load_mid = load_average_1m();
      sampled = true;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(window_end - unix_now(), 0.0, 0.2)));
  }
  search::TaskCounts left = storage->counts(id);
  controller.stop(10s);
  procs.stop(10s);
  std::vector<search::Evaluation> evaluations = storage->evaluations(id);
  out = analyze_scaling(evaluations, {workers, child, window_start, window_end});

  nlohmann::json record = to_json(out);
  record["backend"] = run.backend;
  record["mode"] = o.mode;
  record["database"] = run.shown;
  record["search"] = run.name;
  record["startup_seconds"] = all_started - spawned;
  record["workers_started"] = owners.size();
  record["worker_command"] = command_line(worker_args);
  record["load_avg_1m_mid"] = load_mid;
  record["worker_memory"] = {{"processes", memory.processes}, {"rss_mb", memory.rss_mb}, {"anon_mb", memory.anon_mb},
                             {"rss_mb_per_worker", memory.processes ? memory.rss_mb / memory.processes : 0},
                             {"anon_mb_per_worker", memory.processes ? memory.anon_mb / memory.processes : 0}};
  if (o.mode == "queue") {
    record["queue"] = {{"filled", filler->filled()}, {"batches", filler->batches()}, {"queued_at_end", left.queued}};
  } else {
    record["command"] = command_line(run_args);
    std::int64_t proposed = 0;
    for (const search::Candidate& c : storage->candidates(id))
      proposed += c.created_at >= window_start && c.created_at < window_end;
    record["controller"] = {{"candidates_in_window", proposed},
                            {"candidates_per_second", proposed / o.duration},
                            {"queued_at_end", left.queued}};
  }
  return record;
}

int run_scaling_bench(const ScalingOptions& given) {
  ScalingOptions o = given;
  if (o.mode != "queue" && o.mode != "search") throw UsageError("--mode: queue or search, not '" + o.mode + "'");
  if (o.backends.empty()) o.backends = o.postgres.empty() ? std::vector<std::string>{"sqlite"}
                                                          : std::vector<std::string>{"sqlite", "postgresql"};
  for (const std::string& b : o.backends) {
    if (b != "sqlite" && b != "postgresql") throw UsageError("--backends: sqlite or postgresql, not '" + b + "'");
    if (b == "postgresql" && o.postgres.empty()) throw UsageError("--backends postgresql needs --postgres URL");
  }
  if (!o.json.empty()) support::check_writable(o.json, "--json");
  if (!o.postgres.empty() && !o.postgres.starts_with("postgresql://") && !o.postgres.starts_with("postgres://"))
    throw UsageError("--postgres: expected a postgresql:// URL, not '" + search::mask_password(o.postgres) + "'");
  if (access(o.nos_search.c_str(), X_OK) != 0)
    throw std::invalid_argument(fmt::format("--nos-search: cannot run '{}': {} (build it: cmake --build build --target nos-search)",
                                            o.nos_search, std::strerror(errno)));
  const WorkDir work(o.keep, "nos-bench-scaling");
  const fs::path& dir = work.path();

  // Names unique per run, so that runs can share one PostgreSQL database (it keeps their searches).
  const long stamp = static_cast<long>(unix_now());
  std::vector<ScalingRow> rows;
  nlohmann::json records = nlohmann::json::array();
  for (const std::string& backend : o.backends) {
    for (int workers : o.workers) {
      Run run;
      run.backend = backend;
      run.name = fmt::format("scaling-{}-{}-{}-w{}", o.mode, stamp, getpid(), workers);
      run.location = backend == "sqlite" ? (dir / (run.name + ".db")).string() : o.postgres;
      run.shown = search::mask_password(run.location);
      ScalingStats stats;
      nlohmann::json record;
      try {
        record = measure(o, run, workers, dir, stats);
      } catch (const search::StorageError& e) {
        throw std::invalid_argument(e.what());  // a database that cannot be used is bad input
      }
      std::cerr << fmt::format("nos-bench scaling: {} {} x{}: {:.2f} evaluations/s of {:.2f} ideal ({:.1f} %), claim "
                               "latency median {:.1f} ms, p99 {:.1f} ms\n",
                               backend, o.mode, workers, stats.evaluations_per_second, stats.ideal_per_second,
                               100 * stats.efficiency, 1000 * stats.claim.median, 1000 * stats.claim.p99)
                << std::flush;
      rows.push_back({backend + " " + o.mode, stats});
      records.push_back(std::move(record));
    }
  }
  std::cout << format_scaling_table(rows);
  if (!o.json.empty()) {
    nlohmann::json doc = {{"benchmark", "scaling"},
                          {"cores", std::thread::hardware_concurrency()},
                          {"options",
                           {{"workers", o.workers}, {"child_seconds", o.child_seconds}, {"duration", o.duration},
                            {"warmup", o.warmup >= 0 ? o.warmup : 2 + o.child_seconds}, {"backends", o.backends},
                            {"mode", o.mode}, {"strategy", o.strategy}, {"batch", o.batch}}},
                          {"runs", records}};
    support::write_file_atomically(o.json, json_text(doc, 2) + "\n", "--json");
  }
  return kOk;
}

}  // namespace

void add_scaling_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ScalingOptions>();
  o->nos_search = default_nos_search();
  CLI::App* cmd = app.add_subcommand(
      "scaling", "how many workers a search database keeps busy: nos-search worker processes on the synthetic child, "
                 "evaluations per second against workers / child seconds, and the claim latency, on SQLite and PostgreSQL");
  cmd->add_option("--workers", o->workers, "worker counts to measure one after the other, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--child-seconds", o->child_seconds, "what each evaluation sleeps (the synthetic child)")
      ->check(tool::range_validator(0.001, 3600))
      ->capture_default_str();
  cmd->add_option("--duration", o->duration, "seconds measured per worker count, after start-up and the warm-up")
      ->check(tool::range_validator(0.1, 1e6))
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "seconds between the last worker's first lease and the window (default: 2 + child)")
      ->check(tool::range_validator(0, 3600));
  cmd->add_option("--backends", o->backends,
                  "sqlite, postgresql, comma-separated (default: sqlite, and postgresql when --postgres is given)")
      ->delimiter(',');
  cmd->add_option("--postgres", o->postgres,
                  "the PostgreSQL database (postgresql://USER@HOST/DB): each run adds a search named scaling-... to it; "
                  "64 workers hold 129 connections (max_connections)");
  cmd->add_option("--mode", o->mode,
                  "queue: the benchmark fills the queue, only the database and the workers are measured; search: a real "
                  "nos-search run --workers 0 proposes (its intake may be the limit)")
      ->capture_default_str();
  cmd->add_option("--strategy", o->strategy, "search mode: nos-search run's --strategy")->capture_default_str();
  cmd->add_option("--batch", o->batch, "search mode: nos-search run's --batch (default: 4 x workers, at least 20)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--startup-timeout", o->startup_timeout, "seconds for every worker to take its first task")
      ->check(tool::range_validator(1, 3600))
      ->capture_default_str();
  cmd->add_option("--json", o->json, "write the records as JSON to this file");
  cmd->add_option("--keep", o->keep, "keep the SQLite databases and the logs in this directory (default: a temporary one, removed)");
  cmd->add_option("--nos-search", o->nos_search, "the nos-search executable")->capture_default_str();
  cmd->footer("Starts N `nos-search worker --db DB --search NAME --quiet` per worker count (their output in "
              "DIR/NAME.log). docs/benchmarks.md says what each number means.");
  cmd->callback([&run, o] { run = [o] { return run_scaling_bench(*o); }; });
}

}  // namespace nos::bench
