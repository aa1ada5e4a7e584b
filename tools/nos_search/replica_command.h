// Controller replicas on the command line (controller/search/replica_loop.h, docs/distributed.md):
// `nos-search replica` runs one replica of a search (what `run --replicas N` starts N of; by hand,
// on any machine that reaches the database, one more joins), and run's supervisor of its local
// replica processes. The replicas' settings are the search's `replicas` artifact, written by run.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "controller/search/search_loop.h"
#include "tools/nos_search/commands.h"

namespace nos::search::cli {

struct ReplicaCommandOptions {
  DatabaseOptions db;
  std::string name;   // the replica's name in the database; empty: HOST/PID (a new replica)
  int index = -1;     // its place (synchronous mode) and seed; -1: 0 for replica-0, else from the name
  bool quiet = false;
};

void add_replica_command(CLI::App& app, ReplicaCommandOptions& options, CLI::App*& command);
int replica(const ReplicaCommandOptions& options);

// The replicas' settings as run stores them (the `replicas` artifact): N, synchronous, the
// staleness limit. Stored once; a resumed run keeps them.
struct ReplicaSettings {
  int replicas = 0;
  bool synchronous = false;
  std::int64_t max_staleness = -1;
};
std::optional<ReplicaSettings> stored_replica_settings(Storage& storage, SearchId search);
void store_replica_settings(Storage& storage, SearchId search, const ReplicaSettings& settings);

// run --replicas: starts the N local replica processes (`nos-search replica --name replica-K`, log
// `log_path`), restarts one that dies (it resumes its own open batches under its name), and
// returns once every replica has finished (Budget) or `stop` is set (Stopped). `poll` runs while
// waiting (the local workers' supervisor).
LoopEnd run_replica_processes(Storage& storage, const SearchInfo& search, const std::string& db,
                              const ReplicaSettings& settings, const std::string& log_path,
                              const std::atomic<bool>& stop, const std::function<void(const std::string&)>& note,
                              const std::function<std::vector<std::string>()>& poll);

}  // namespace nos::search::cli
