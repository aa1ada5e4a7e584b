// `nos-search run`'s options, in one table: for each, how the command line takes it (its help and
// checks), the configuration key it sets, and whether `--resume` may change it. The command's
// registration, configure() and the resume check all read this table, so an option is added in
// one place. Torch-free.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/nos_search/commands.h"

namespace nos::search::cli {

// What a run may do with an option when it resumes a search.
enum class OnResume {
  Fixed,    // a key of the stored configuration: given again, it must have its stored value
  Changes,  // a key of the stored configuration that each run may set anew (its budgets, workers, device)
  RunOnly,  // this run's own setting, not stored (--db, --report, --quiet)
};

struct RunOption {
  const char* flag;  // as CLI11 names it: "--epochs"
  const char* key;   // the configuration key it sets ("child.epochs"; "strategy_options.KEY"); "" for RunOnly
  OnResume on_resume;
  CLI::Option* (*add)(CLI::App& run, RunOptions& o);  // registers it: its help and checks
  void (*apply)(SearchConfig& c, const RunOptions& o);  // sets its key when given; nullptr for RunOnly
};

// Every option of `run`, in the order configure() applies them.
std::span<const RunOption> run_options();

// Registers every option of the table on `run`.
void add_run_options(CLI::App& run, RunOptions& o);

// The configuration a run asks for: `c` (the defaults, or the stored configuration on --resume),
// replaced by --config's file when one is given, then by each option given (in table order).
// UsageError for a bad value (--child, --lr-grid, -O), ConfigError for a configuration that cannot run.
SearchConfig configure(SearchConfig c, const RunOptions& o);

// The configuration keys a resumed run may change, and the options that set them.
std::vector<std::string> keys_changeable_on_resume();
std::vector<std::string> flags_changeable_on_resume();

}  // namespace nos::search::cli
