// nos-search: the neural optimizer search's command line: run a search (and its workers), read
// its database (status, top, export, report), and train its best rules again beside the
// baselines (final).
//
//   nos-search run                      the demo: a short search on Fashion-MNIST, next to Adam
//   nos-search run --budget 2000 --db my.db --resume
//   nos-search status search.db
//   nos-search top search.db -k 5 --json
//   nos-search export search.db --rank 1 --target pytorch -o best_rule.py
//   nos-search report search.db -o report/
//   nos-search final search.db --top 3 --seeds 3 --json final.json
//   nos-search final search.db --top 2 --seeds 2 --search-epochs 1 --search-train-subset 2000
//
// Exit status: 0 ok, 1 bad input (a database that is missing, not a NOS search, another schema
// version, corrupt; an unknown --search; a --rank past the ranked rules; an unwritable -o; no
// gnuplot for report; no ranked rule for final to retrain),
// 2 a command-line mistake, 3 an internal error (a NOS bug).
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/options.h"
#include "tools/tool_main.h"
#include "tools/nos_search/commands.h"
#include "tools/nos_search/run_options.h"
#if NOS_SEARCH_HAS_RUN
#include "tools/nos_search/replica_command.h"
#endif
#include "controller/search/storage.h"
#ifdef NOS_SEARCH_HAVE_FINAL
#include "controller/lstm/lstm_strategy.h"
#endif

namespace {

using namespace nos::search::cli;

void add_database(CLI::App& command, DatabaseOptions& db) {
  command.add_option("DB", db.database, "the search database (an SQLite file or a postgresql:// URL), opened read-only")->required();
  command.add_option("--search", db.search,
                     "which search of the file (default: its only one; status shows every search)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("nos-search: neural optimizer search. Runs a search (the controller proposes update rules, worker "
               "processes train a child network with each, the controller learns from their validation accuracy) and "
               "reads its database: status, best rules, their export as standalone source, a report with plots.",
               "nos-search");
  app.require_subcommand(1);
  app.footer(
#ifndef NOS_SEARCH_HAS_RUN
      "Not in this build: run, worker, final (they train: they need LibTorch, and this build has NOS_WITH_TORCH=OFF).\n"
#endif
      "Exit status: 0 ok, 1 bad input (the database or file is named), 2 usage, 3 internal error, 130 stopped "
      "(resume with run --resume).");

#if NOS_SEARCH_HAS_RUN
  RunOptions run_options;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "run a search on this machine; with no options, a demo (Fashion-MNIST MLP child on a 10k subset, "
             "1 to 7 minutes on 2 cores, depending on how many proposals are new) that ends with the best rules next to Adam");
  add_run_options(*run_cmd, run_options);  // run_options.cpp: one table, with what --resume may change

  WorkerCommandOptions worker_options;
  CLI::App* worker_cmd = app.add_subcommand(
      "worker", "evaluate a search's queued candidates (what run starts; more by hand add throughput)");
  worker_cmd->add_option("--db", worker_options.db.database, "the search database: an SQLite file or a postgresql:// URL")->required();
  worker_cmd->add_option("--search", worker_options.db.search, "which search of the file (default: its only one)");
  worker_cmd->add_option("--owner", worker_options.owner, "the name its leases carry (default HOST/PID)");
  worker_cmd->add_option("--device", worker_options.device,
                         "where it trains: cpu, cuda or cuda:N (default: the search's child.device; one worker per "
                         "GPU); one this machine lacks is refused before any work is taken")
      ->check(nos::tool::device_validator());
  worker_cmd->add_option("--threads", worker_options.threads, "LibTorch threads (default: the search's; results depend on it)")
      ->check(nos::tool::positive_validator());
  worker_cmd->add_option("--max-idle", worker_options.max_idle, "exit after this many seconds without work (default: never)")
      ->check(nos::tool::non_negative_validator());
  worker_cmd->add_option("--max-tasks", worker_options.max_tasks, "exit after this many evaluations")->check(nos::tool::positive_validator());
  worker_cmd->add_flag("--quiet,-q", worker_options.quiet, "no line per evaluation");
  ReplicaCommandOptions replica_options;
  CLI::App* replica_cmd = nullptr;
  add_replica_command(app, replica_options, replica_cmd);  // replica_command.cpp
#endif

  DatabaseOptions status_options;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "each search in the file: configuration, queue, results by status and source (cache and "
                "fingerprint hits), best rule so far, trained evaluations per minute");
  add_database(*status_cmd, status_options);

  TopOptions top_options;
  CLI::App* top_cmd = app.add_subcommand(
      "top", "the best rules, one per canonical hash, ranked by the highest stage reached, then reward");
  add_database(*top_cmd, top_options.db);
  top_cmd->add_option("-k", top_options.k, "how many rules")->check(nos::tool::positive_validator())->capture_default_str();
  top_cmd->add_flag("--json", top_options.json,
                    "a JSON array of {rank, rule, tokens, hash, reward, metric, lr, status, stage, source, detail, "
                    "candidate, batch, fingerprint} with the full texts; a per-seed funnel adds seeds, mean, se, "
                    "lcb, per_seed and vs (each baseline's paired difference)");
  top_cmd->add_option("--rank-by", top_options.rank_by,
                      "after the stage: mean (over seeds), lcb (mean - t*se) or reward (the best seed's); default: "
                      "mean where the funnel trains several seeds or baselines, else reward (the same with one seed)")
      ->check(CLI::IsMember({"mean", "lcb", "reward"}));

  ExportOptions export_options;
  CLI::App* export_cmd = app.add_subcommand("export", "one ranked rule as standalone source");
  add_database(*export_cmd, export_options.db);
  export_cmd->add_option("--rank", export_options.rank, "which rule, as `top` ranks them")
      ->check(nos::tool::positive_validator())
      ->capture_default_str();
  export_cmd
      ->add_option("--target", export_options.target,
                   "pytorch (a torch.optim.Optimizer, .py), cpp (host C++17, .cpp) or cuda-standalone (the fused "
                   "kernel with its launch notes, .cu): nosc compile's source targets")
      ->check(CLI::IsMember({"pytorch", "cpp", "cuda-standalone"}))
      ->required();
  export_cmd->add_option("-o,--output", export_options.output, "the file to write ('-': standard output)")->required();

  ReportOptions report_options;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "DIR/index.html (one self-contained page) and PNG plots (gnuplot): the search at a glance, the "
                "stored finals (the latest in full, with its verdict), the top rules against Adam with their hashes, "
                "tokens and export commands, their training curves beside the baselines', reward per batch, best "
                "so far against results and wall time beside Adam, policy entropy, statuses and cache/fingerprint "
                "hit rates per batch, the screening reasons");
  add_database(*report_cmd, report_options.db);
  report_cmd->add_option("-o,--output", report_options.output, "the report's directory (created when missing)")
      ->required();
  report_cmd->add_option("-k", report_options.k, "rules in the top table")
      ->check(nos::tool::positive_validator())
      ->capture_default_str();
#ifdef NOS_SEARCH_HAVE_FINAL
  nos::controller::register_lstm_strategy();  // an lstm search's state must be restorable
  FinalOptions final_options;
  CLI::App* final_cmd = app.add_subcommand(
      "final", "train the search's best rules, the controller's greedy rule and the baselines again over several "
               "seeds, each learning rate chosen by the search's own sweep: mean and std per optimizer, a table, a "
               "verdict (a paired t-test over the seeds), JSON; each run stored as the search's next artifact "
               "'final:N' (none is replaced)");
  final_cmd->add_option("DB", final_options.db.database, "the search database (an SQLite file); written unless --no-store")
      ->required();
  final_cmd->add_option("--search", final_options.db.search, "which search of the file (default: its only one)");
  final_cmd->add_option("--top", final_options.top, "how many of the best rules (those with a result, as `top` ranks them)")
      ->check(nos::tool::positive_validator())
      ->capture_default_str();
  final_cmd->add_option("--seeds", final_options.seeds, "trainings per optimizer, each with its own seed and split")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  final_cmd->add_option("--baselines", final_options.baselines, "LibTorch optimizers to compare with, comma-separated "
                                                                "(adam, rmsprop, sgd), or none")
      ->capture_default_str();
  final_cmd->add_option("--sgd-momentum", final_options.sgd_momentum, "the momentum of the sgd baseline")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  final_cmd->add_flag("--no-greedy", final_options.no_greedy, "leave out the controller's greedy rule");
  final_cmd->add_option("--task", final_options.task_file,
                        "transfer task: this task file (docs/tasks.md), over the search's task; --data, --model, "
                        "--hidden, --epochs and --train-subset beside it replace its keys");
  final_cmd->add_option("--data", final_options.data,
                        "transfer task: train on this data instead (a name, an IDX directory or prefix, a .csv)");
  final_cmd->add_option("--model", final_options.model,
                        "transfer task: this child network instead (mlp, convnet, resnet, textrnn, textcnn, a TorchScript file)")
      ->check(nos::tool::model_validator());
  final_cmd->add_option("--hidden", final_options.hidden, "transfer task: these mlp hidden widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  final_cmd->add_option("--epochs", final_options.epochs, "transfer task: train this many epochs instead")
      ->check(CLI::Range(1, 100000));
  final_cmd->add_option("--train-subset", final_options.train_subset,
                        "transfer task: train on this many examples instead (0: all)")
      ->check(nos::tool::non_negative_validator());
  final_cmd->add_option("--search-epochs", final_options.search_epochs,
                        "the search task with this many epochs instead of the search's (a cheap first look: "
                        "the table and the JSON say the task was changed)")
      ->check(CLI::Range(1, 100000));
  final_cmd->add_option("--search-train-subset", final_options.search_train_subset,
                        "the search task on this many training examples instead of the search's (0: all)")
      ->check(nos::tool::non_negative_validator());
  nos::tool::add_threads_option(*final_cmd, final_options.threads, "LibTorch threads per training (0: the search's "
                                                                   "threads_per_worker)");
  final_cmd->add_option("--time-budget", final_options.time_budget,
                        "seconds per optimizer and seed, sweep included (0: none)")
      ->check(nos::tool::non_negative_validator())
      ->capture_default_str();
  final_cmd->add_option("--lr-grid", final_options.lr_grid,
                        "every optimizer's learning-rate grid instead of the search's: rates comma-separated, or "
                        "default, fine (8 rates over 1e-4 .. 1), half-decades (1e-4, 3e-4, ..., 1)");
  final_cmd->add_option("--lr-sweep", final_options.lr_sweep,
                        "every optimizer's sweep instead of the search's: exhaustive or halving (successive halving)");
  final_cmd->add_option("--json", final_options.json, "also write the document (controller/search/README.md) to this file");
  final_cmd->add_flag("--no-store", final_options.no_store, "open the database read-only; store no 'final:N' artifact");
#endif

  return nos::tool::run_main(app, argc, argv, [&]() -> int {
    try {
#if NOS_SEARCH_HAS_RUN
      if (*run_cmd) {
        for (const CLI::Option* option : run_cmd->get_options())
          if (option->count() > 0) run_options.given.insert(option->get_name());
        return run(run_options);
      }
      if (*worker_cmd) return worker(worker_options);
      if (*replica_cmd) return replica(replica_options);
#endif
      if (*status_cmd) return status(status_options);
      if (*top_cmd) return top(top_options);
      if (*export_cmd) return export_rule(export_options);
      if (*report_cmd) return report(report_options);
#ifdef NOS_SEARCH_HAVE_FINAL
      if (*final_cmd) return final_retrain(final_options);
#endif
    } catch (const nos::search::StorageError& e) {
      // The storage layer's messages start with the file: bad input, not a NOS bug.
      std::cerr << "nos-search: error: " << e.what() << '\n';
      return nos::tool::kInvalid;
    }
    throw nos::tool::UsageError("no command given");
  });
}
