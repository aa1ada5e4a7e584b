// The subcommands of nos-search that read a search database (status, top, export, report): their
// options and entry points. Each opens the database read-only and returns the process's exit status.
#pragma once

#include <string>

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

int status(const DatabaseOptions& options);
int top(const TopOptions& options);
int export_rule(const ExportOptions& options);
int report(const ReportOptions& options);

}  // namespace nos::search::cli
