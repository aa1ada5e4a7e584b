// The subcommands of nos-search: their options and entry points. Each returns the process's exit
// status. status, top, export and report open the database read-only; final writes its `final`
// artifact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  std::string data, model;
  std::vector<std::int64_t> hidden;
  int epochs = 0;
  std::int64_t train_subset = -1;
  int threads = 0;          // 0: the search's threads_per_worker
  double time_budget = 0;   // seconds per training (sweep included); 0: none
  std::string json;         // --json OUT
  bool no_store = false;    // open read-only, do not store the `final` artifact

  bool transfer_given() const {
    return !data.empty() || !model.empty() || !hidden.empty() || epochs > 0 || train_subset >= 0;
  }
};

int status(const DatabaseOptions& options);
int top(const TopOptions& options);
int export_rule(const ExportOptions& options);
int report(const ReportOptions& options);
int final_retrain(const FinalOptions& options);

}  // namespace nos::search::cli
