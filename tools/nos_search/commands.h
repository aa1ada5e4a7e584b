// The subcommands of nos-search: their options and entry points. Each returns the process's exit
// status. status, top, export and report open the database read-only; run and worker write the
// search, final its `final:N` artifact.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "controller/search/search_config.h"

namespace nos::search::cli {

// Which search of the file a command reads: empty = the only one (an error when there are several).
struct DatabaseOptions {
  std::string database;
  std::string search;
};

struct TopOptions {
  DatabaseOptions db;
  int k = 10;
  bool json = false;
  std::string rank_by;  // mean | lcb | reward; "": the search's default (standing.h)
};

struct ExportOptions {
  DatabaseOptions db;
  int rank = 1;
  std::string target;
  std::string output;  // "-" = standard output
};

struct ReportOptions {
  DatabaseOptions db;
  std::string output;  // the directory of index.html and the PNGs
  int k = 20;          // rules in the top table
  bool quiet = false;  // no line saying what was written (run's summary says it)
};

// nos-search final (final_command.cpp, built with LibTorch only). The transfer task's fields are
// "not given" while empty, 0 or -1: any given one adds the transfer task (the search's child with
// them replaced).
struct FinalOptions {
  DatabaseOptions db;
  int top = 3;
  int seeds = 3;
  std::string baselines = "adam,rmsprop,sgd";
  double sgd_momentum = 0.9;
  bool no_greedy = false;
  std::string task_file;  // --task: the transfer task's file, over the search's task
  std::string data, model;
  std::vector<std::int64_t> hidden;
  int epochs = 0;
  std::int64_t train_subset = -1;
  // A cheaper search task (a first look before the full retraining): its epochs and examples
  // replaced; 0 / -1: the search's own.
  int search_epochs = 0;
  std::int64_t search_train_subset = -1;
  int threads = 0;          // 0: the search's threads_per_worker
  double time_budget = 0;   // seconds per training (sweep included); 0: none
  // The learning-rate protocol for every optimizer, over the search's stored one; empty: the search's.
  std::string lr_grid, lr_sweep;
  std::string json;         // --json OUT
  bool no_store = false;    // open read-only, do not store the `final` artifact

  bool transfer_given() const {
    return !task_file.empty() || !data.empty() || !model.empty() || !hidden.empty() || epochs > 0 || train_subset >= 0;
  }
};

struct WorkerCommandOptions {
  DatabaseOptions db;
  std::string owner;         // empty: worker_name()
  std::string device;        // empty: the search's child.device
  int threads = 0;           // 0: the search's threads_per_worker
  double max_idle = 0;       // seconds; 0: wait for work forever
  std::int64_t max_tasks = 0;
  bool quiet = false;
};

// `nos-search run`'s values: the configuration comes from --config (or the defaults), then each
// option given on the command line (named in `given`, as CLI11 spells them: "--epochs") replaces
// its key. Which option sets which key, and which may change on --resume: run_options.cpp's table.
struct RunOptions {
  std::string config_file;
  std::string task_file;     // --task: the child's task (runtime/task_file.h), over --config's
  std::string db;            // empty: search-YYYYmmdd-HHMMSS.db in the current directory
  std::string name = "search";
  std::string data, model, strategy, algorithm, groups, lr_grid, lr_sweep, child, device;
  std::vector<std::int64_t> hidden;
  std::vector<std::string> strategy_options;  // key=value
  std::int64_t budget = 0, train_subset = 0;
  double time_budget = 0, lr = 0, funnel_top = 0;
  int funnel_seeds = 1;
  std::string funnel_baselines;  // comma-separated
  int funnel_epochs = 0;
  int batch = 0, workers = 0, threads_per_worker = 0, epochs = 0;
  std::uint64_t seed = 0;
  bool resume = false, overlap = true, async = false, baseline = true, report = true, quiet = false;
  bool cuda_graphs = false;  // --cuda-graphs (child.cuda_graphs)
  int replicas = 0;                  // controller replicas (replica_command.h); 0: the one controller
  bool sync_replicas = false;
  std::int64_t max_staleness = -1;
  std::string report_dir;    // empty: beside the database, search.db -> search-report/
  std::set<std::string> given;
};

int status(const DatabaseOptions& options);
int top(const TopOptions& options);
int export_rule(const ExportOptions& options);
int report(const ReportOptions& options);
int final_retrain(const FinalOptions& options);
int worker(const WorkerCommandOptions& options);
int run(const RunOptions& options);

}  // namespace nos::search::cli
