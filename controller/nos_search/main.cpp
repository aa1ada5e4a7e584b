// nos-search: the neural optimizer search's command line. This build has the commands that read a
// search database: status, top, export, report. run, worker and final come with the evaluate API.
//
//   nos-search status search.db
//   nos-search top search.db -k 5 --json
//   nos-search export search.db --rank 1 --target pytorch -o best_rule.py
//   nos-search report search.db -o report/
//
// Exit status: 0 ok, 1 bad input (a database that is missing, not a NOS search, another schema
// version, corrupt; an unknown --search; a --rank past the ranked rules; an unwritable -o; no
// gnuplot for report),
// 2 a command-line mistake, 3 an internal error (a NOS bug).
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/tool_main.h"
#include "controller/nos_search/commands.h"
#include "controller/search/export.h"
#include "controller/search/storage.h"

namespace {

using namespace nos::search::cli;

void add_database(CLI::App& command, DatabaseOptions& db) {
  command.add_option("DB", db.database, "the search database (an SQLite file), opened read-only")->required();
  command.add_option("--search", db.search,
                     "which search of the file (default: its only one; status shows every search)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("nos-search: neural optimizer search. Reads a search database: its status, its best rules, "
               "their export as standalone source, and a report with plots.",
               "nos-search");
  app.require_subcommand(1);
  app.footer(
      "Coming, not in this build yet: run (a search), worker (an evaluation worker), final (the funnel's last "
      "stage).\nExit status: 0 ok, 1 bad input (the database or file is named), 2 usage, 3 internal error.");

  DatabaseOptions status_options;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "each search in the file: configuration, queue, results by status and source (cache and "
                "fingerprint hits), best rule so far, trained evaluations per minute");
  add_database(*status_cmd, status_options);

  TopOptions top_options;
  CLI::App* top_cmd = app.add_subcommand(
      "top", "the best rules, one per canonical hash, ranked by the highest stage reached, then reward");
  add_database(*top_cmd, top_options.db);
  top_cmd->add_option("-k", top_options.k, "how many rules")->check(CLI::PositiveNumber)->capture_default_str();
  top_cmd->add_flag("--json", top_options.json,
                    "a JSON array of {rank, rule, tokens, hash, reward, metric, lr, status, stage, source, detail, "
                    "candidate, batch, fingerprint} with the full texts");

  ExportOptions export_options;
  CLI::App* export_cmd = app.add_subcommand("export", "one ranked rule as standalone source");
  add_database(*export_cmd, export_options.db);
  export_cmd->add_option("--rank", export_options.rank, "which rule, as `top` ranks them")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  export_cmd
      ->add_option("--target", export_options.target,
                   "pytorch (a torch.optim.Optimizer, .py), cuda (the fused kernel, .cu) or cpp (host C++17, .cpp)")
      ->check(CLI::IsMember({"pytorch", "cuda", "cpp"}))
      ->required();
  export_cmd->add_option("-o,--output", export_options.output, "the file to write ('-': standard output)")->required();

  ReportOptions report_options;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "DIR/index.html (one self-contained page) and PNG plots (gnuplot): reward per batch with the "
                "strategy's baseline, best so far against results and wall time, policy entropy, statuses and "
                "cache/fingerprint hit rates per batch, the top rules, their training curves beside Adam's");
  add_database(*report_cmd, report_options.db);
  report_cmd->add_option("-o,--output", report_options.output, "the report's directory (created when missing)")
      ->required();
  report_cmd->add_option("-k", report_options.k, "rules in the top table")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  return nos::tool::run_main(app, argc, argv, [&]() -> int {
    try {
      if (*status_cmd) return status(status_options);
      if (*top_cmd) return top(top_options);
      if (*export_cmd) return export_rule(export_options);
      if (*report_cmd) return report(report_options);
    } catch (const nos::search::StorageError& e) {
      // The storage layer's messages start with the file: bad input, not a NOS bug.
      std::cerr << "nos-search: error: " << e.what() << '\n';
      return nos::tool::kInvalid;
    }
    throw nos::tool::UsageError("no command given");
  });
}
