#include "tools/nos_search/replica_command.h"

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/lstm/lstm_strategy.h"
#include "controller/search/config_file.h"
#include "controller/search/replica_loop.h"
#include "controller/search/worker_loop.h"
#include "runtime/cpu_threads.h"
#include "support/process.h"
#include "tools/nos_search/open_search.h"
#include "tools/tool_main.h"

namespace nos::search::cli {
namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested.store(true); }

// FNV-1a of the name: a joining replica's seed index, the same on every machine and build.
int index_of(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return 1 + static_cast<int>(h % 1000000007ull);
}

}  // namespace

void add_replica_command(CLI::App& app, ReplicaCommandOptions& o, CLI::App*& command) {
  command = app.add_subcommand("replica",
                               "one controller replica of a search (run --replicas N starts N; by hand one more joins "
                               "from any machine that reaches the database)");
  command->add_option("--db", o.db.database, "the search database: an SQLite file or a postgresql:// URL")->required();
  command->add_option("--search", o.db.search, "which search of the file (default: its only one)");
  command->add_option("--name", o.name,
                      "the replica's name (default HOST/PID); a replica started again under its name resumes its "
                      "open batches");
  command->add_option("--index", o.index, "its place in a synchronous round and its seed (default: from the name)")
      ->check(CLI::Range(0, 1 << 20));
  command->add_flag("--quiet,-q", o.quiet, "no line per batch");
}

std::optional<ReplicaSettings> stored_replica_settings(Storage& storage, SearchId search) {
  std::optional<std::string> text = storage.artifact(search, "replicas");
  if (!text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.value("replicas", nlohmann::json()).is_number_integer())
    throw StorageError(fmt::format("{}: the search's 'replicas' artifact is not readable: {}", storage.location(), *text));
  return ReplicaSettings{j["replicas"].get<int>(), j.value("synchronous", false), j.value("max_staleness", std::int64_t{-1})};
}

void store_replica_settings(Storage& storage, SearchId search, const ReplicaSettings& s) {
  nlohmann::json j = {{"replicas", s.replicas}, {"synchronous", s.synchronous}, {"max_staleness", s.max_staleness}};
  storage.put_artifact(search, "replicas", j.dump());
}

int replica(const ReplicaCommandOptions& options) {
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  controller::register_lstm_strategy();
  runtime::set_cpu_threads(1);
  std::unique_ptr<Storage> storage = open_storage(options.db.database, OpenMode::Open);
  SearchInfo search = choose_search(*storage, options.db);
  SearchConfig config = stored_config(search, storage->location());
  ReplicaSettings settings = stored_replica_settings(*storage, search.id).value_or(ReplicaSettings{1, false, -1});
  ReplicaOptions r;
  r.name = options.name.empty() ? worker_name() : options.name;
  r.index = options.index >= 0 ? options.index : r.name == "replica-0" ? 0 : index_of(r.name);
  r.synchronous = settings.synchronous;
  r.replicas = std::max(settings.replicas, 1);
  r.max_staleness = settings.max_staleness;
  if (r.synchronous && r.index >= r.replicas)
    throw tool::UsageError(fmt::format("--index {}: the synchronous search '{}' has replicas 0 .. {}", r.index,
                                       search.name, r.replicas - 1));
  SearchConfig own = config;
  own.seed = replica_seed(config.seed, r.index);
  std::unique_ptr<controller::Strategy> strategy = make_strategy(own);
  LoopEvents events;
  events.on_note = [&](const std::string& line) { std::cerr << "nos-search replica " << r.name << ": " << line << '\n'; };
  events.on_batch = [&](const SearchProgress& p) {
    if (!options.quiet)
      std::cout << fmt::format("replica {}: batch {} learned, mean reward {:.4f}", r.name, p.batch + 1, p.batch_mean_reward)
                << std::endl;
  };
  ReplicaLoop loop(*storage, search.id, config, *strategy, r, events);
  LoopEnd end = loop.run(&stop_requested);
  if (end == LoopEnd::Stopped) return 130;
  if (!options.quiet)
    std::cout << fmt::format("replica {}: done ({} update(s) applied, {} refused)", r.name, loop.updates_applied(),
                             loop.updates_refused())
              << std::endl;
  return 0;
}

LoopEnd run_replica_processes(Storage& storage, const SearchInfo& search, const std::string& db,
                              const ReplicaSettings& settings, const std::string& log_path,
                              const std::atomic<bool>& stop, const std::function<void(const std::string&)>& note,
                              const std::function<std::vector<std::string>()>& poll) {
  struct Replica {
    std::string name;
    pid_t pid = 0;
    bool done = false;
    int restarts = 0;
  };
  std::vector<Replica> replicas;
  auto spawn = [&](int k) {
    return support::spawn({.argv = {support::self_executable(), "replica", "--db", db, "--search", search.name, "--name",
                                    fmt::format("replica-{}", k), "--index", std::to_string(k), "--quiet"},
                           .log = log_path,
                           .own_process_group = true,
                           .die_with_parent = true});
  };
  for (int k = 0; k < settings.replicas; ++k) replicas.push_back({fmt::format("replica-{}", k), spawn(k)});
  while (true) {
    if (stop.load()) {
      std::vector<pid_t> pids;
      for (const Replica& r : replicas)
        if (!r.done) pids.push_back(r.pid);
      support::stop_all(pids, std::chrono::seconds(5));
      return LoopEnd::Stopped;
    }
    bool all_done = true;
    for (std::size_t k = 0; k < replicas.size(); ++k) {
      Replica& r = replicas[k];
      if (r.done) continue;
      if (std::optional<int> status = support::poll_exit(r.pid)) {
        if (support::exited_ok(*status)) {
          r.done = true;
          continue;
        }
        // Killed or failed: started again under its name, it resumes its open batches.
        if (++r.restarts > 5)
          throw std::invalid_argument(fmt::format("replica {} keeps dying ({}): see {}", r.name,
                                                  support::describe_exit(*status), log_path));
        note(fmt::format("replica {} died ({}); restarting it (log: {})", r.name, support::describe_exit(*status), log_path));
        r.pid = spawn(static_cast<int>(k));
      }
      all_done = all_done && r.done;
    }
    if (all_done && storage.counts(search.id).pending() == 0) return LoopEnd::Budget;
    for (const std::string& line : poll()) note(line);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace nos::search::cli
