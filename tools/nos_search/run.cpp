// nos-search run: a whole search on this machine. Creates (or with --resume reopens) the search
// database, starts the worker processes, runs the controller's loop until the budget is spent,
// then trains Adam on the same child with the same learning-rate sweep and prints the best rules
// next to it.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <map>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "controller/lstm/lstm_strategy.h"
#include "tools/nos_search/commands.h"
#include "tools/nos_search/metric_label.h"
#include "tools/nos_search/open_search.h"
#include "tools/nos_search/progress.h"
#include "tools/nos_search/replica_command.h"
#include "tools/nos_search/run_options.h"
#include "tools/nos_search/standing_cells.h"
#include "tools/nos_search/table.h"
#include "compiler/codegen/kernel_abi.h"
#include "controller/search/child_evaluation.h"
#include "controller/search/config_file.h"
#include "controller/search/search_loop.h"
#include "controller/search/standing.h"
#include "controller/search/worker_loop.h"
#include "controller/search/worker_pool.h"
#include "runtime/cpu_threads.h"
#include "runtime/evaluate.h"
#include "tools/tool_main.h"
#include "runtime/json_text.h"

namespace nos::search::cli {
namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested.store(true); }

// Every leaf of a configuration's JSON form, by its dotted key.
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [key, value] : j.items()) flatten(value, prefix.empty() ? key : prefix + "." + key, out);
    return;
  }
  out[prefix] = json_text(j);
}

// A resumed search runs its stored configuration: options given again with their stored values
// are fine (re-running the same command with --resume appended is the natural thing to do); a
// real change of anything but this run's own settings is a usage error showing both values.
void check_unchanged_on_resume(const SearchConfig& stored, const SearchConfig& asked, const std::string& db) {
  std::map<std::string, std::string> before, after;
  flatten(to_json(stored), "", before);
  flatten(to_json(asked), "", after);
  for (const std::string& key : keys_changeable_on_resume()) before.erase(key), after.erase(key);
  std::vector<std::string> changes;
  auto value_in = [](const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string("none") : it->second;
  };
  std::set<std::string> keys;
  for (const auto& [key, value] : before) keys.insert(key);
  for (const auto& [key, value] : after) keys.insert(key);
  for (const std::string& key : keys)
    if (value_in(before, key) != value_in(after, key))
      changes.push_back(fmt::format("{} (stored {}, given {})", key, value_in(before, key), value_in(after, key)));
  if (changes.empty()) return;
  std::vector<std::string> flags = flags_changeable_on_resume();
  std::string last = flags.back();
  flags.pop_back();
  throw tool::UsageError(fmt::format(
      "--resume: {} cannot change: the search in {} keeps its stored configuration (only {} and {} may change)",
      fmt::join(changes, ", "), db, fmt::join(flags, ", "), last));
}

// Text that reaches JSON (the database, `final`'s document, the report) must be valid UTF-8.
bool valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// A device this machine cannot train on, refused before anything is written (the local workers
// would fail every task). Nothing trains here with --workers 0 and no baseline (the remote workers
// choose theirs), nor for a synthetic child.
void check_device(const SearchConfig& config, const RunOptions& o) {
  const bool baseline = o.baseline && config.child.synthetic < 0;
  if (config.child.synthetic >= 0 || (config.workers == 0 && !baseline)) return;
  if (std::string problem = runtime::device_problem(config.child.device); !problem.empty())
    throw std::invalid_argument(fmt::format("{}: {}{}", o.given.count("--device") ? "--device" : "child.device", problem,
                                            config.workers == 0 ? " (the Adam baseline trains here: --no-baseline)" : ""));
}

std::string default_database() {
  return fmt::format("search-{:%Y%m%d-%H%M%S}.db", fmt::gmtime(std::time(nullptr)));
}

bool is_url(const std::string& db) { return db.starts_with("postgresql://") || db.starts_with("postgres://"); }

// Adam on the search's child through the same protocol (its rate from the same sweep), stored as
// the `baseline:adam` artifact so that a resumed search, `report` and `final` reuse it.
nlohmann::json adam_baseline(Storage& storage, SearchId search, const SearchConfig& config, ProgressPrinter& progress) {
  if (std::optional<std::string> stored = storage.artifact(search, "baseline:adam"))
    return nlohmann::json::parse(*stored);
  progress.note("training Adam on the same child, its learning rate from the same sweep ...");
  runtime::EvaluateSpec spec = child_spec(config, 1, -1);
  spec.torch_optimizer = "adam";
  nlohmann::json artifact = to_artifact(config, evaluate_child(config, spec));
  storage.put_artifact(search, "baseline:adam", json_text(artifact));
  return artifact;
}

// The report beside the database: search.db -> search-report/; for a URL, NAME-report/ here.
std::string default_report_dir(const std::string& db, const std::string& name) {
  if (is_url(db)) return name + "-report";
  std::filesystem::path path(db);
  std::string stem = path.extension() == ".db" ? path.stem().string() : path.filename().string();
  return (path.parent_path() / (stem + "-report")).string();
}

// The best rules at the end of a run. In a per-seed funnel with Adam among its baselines, each rule
// is shown with its mean over seeds and its paired difference with Adam on the same seeds, and the
// verdict is the paired test's; else next to the one-seed Adam baseline (`adam`), as a hint.
void print_summary(Storage& storage, const SearchInfo& search, const nlohmann::json* adam, const std::string& db,
                   const std::string& report_line) {
  const bool per_seed = per_seed_search(search);
  // The best 5 distinct results: a fingerprint hit is the same behaviour as the rule it copied.
  std::vector<RankedResult> ranked;
  std::set<std::int64_t> shown;
  for (RankedResult& r : ranked_rules(storage, search.id, 50, default_rank_by(per_seed))) {
    // Only rules a child trained with: a screened-out or failed rule is no "best rule".
    if (!r.evaluation.metric || !usable(r.evaluation.status)) continue;
    if (!shown.insert(r.evaluation.reused_from.value_or(r.candidate.index)).second) continue;
    ranked.push_back(std::move(r));
    if (ranked.size() == 5) break;
  }
  // Each rule's paired test against Adam on the same seeds, where the funnel trained Adam there.
  std::vector<Evaluation> baselines = per_seed ? storage.baseline_results(search.id) : std::vector<Evaluation>{};
  std::vector<std::optional<VersusBaseline>> versus_adam(ranked.size());
  bool paired = false;
  for (std::size_t i = 0; i < ranked.size(); ++i)
    for (VersusBaseline& v : versus_baselines(ranked[i], baselines))
      if (v.baseline == "adam" && v.test.pairs > 0) versus_adam[i] = std::move(v), paired = true;

  std::optional<double> adam_metric;
  if (adam && (*adam)["metric"].is_number()) adam_metric = (*adam)["metric"].get<double>();
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& [c, e, seeds] = ranked[i];
    std::vector<std::string> row{std::to_string(i + 1), number_cell(e.metric)};
    if (paired) {
      Standing standing = standing_of(ranked[i]);
      row.push_back(std::to_string(standing.n));
      row.push_back(mean_cell(standing));
      row.push_back(versus_adam[i] ? versus_cell(*versus_adam[i]) : "-");
    } else {
      // Adam ran the first stage's protocol: a second-stage result (more epochs or data) is no match.
      row.push_back(adam_metric && e.metric && e.stage == 1 ? fmt::format("{:+.4f}", *e.metric - *adam_metric) : "-");
    }
    for (std::string cell : {number_cell(e.lr), std::string(name(e.status)), std::to_string(e.stage), truncate(c.rule, 64)})
      row.push_back(cell);
    rows.push_back(std::move(row));
  }
  std::cout << fmt::format("\nbest rules of search '{}':\n", search.name);
  if (std::string note = metric_note(stored_objective(search)); !note.empty()) std::cout << note << '\n';
  std::vector<Column> columns{{"rank", true}, {"metric", true}};
  if (paired) {
    for (Column column : std::vector<Column>{{"seeds", true}, {"mean +- se", true}, {"vs adam, paired"}})
      columns.push_back(column);
  } else {
    columns.push_back({"vs adam", true});
  }
  for (Column column : std::vector<Column>{{"lr", true}, {"status"}, {"stage", true}, {"rule"}}) columns.push_back(column);
  if (ranked.empty()) std::cout << "  none: no proposal was trained to a result (see nos-search status for why)\n";
  else std::cout << render_table(columns, rows);
  if (paired) {
    // The verdict of the best rule's paired test (mean reward over the same seeds as Adam's).
    const std::optional<VersusBaseline>& best = versus_adam.front();  // paired: ranked is not empty
    std::cout << "vs adam, paired: the mean difference in reward with Adam trained on the same seeds in the "
                 "funnel's second stage, its 95 % interval and the paired t-test's p\n";
    if (best)
      std::cout << fmt::format("the best rule against Adam over {} seeds: {}{}\n", best->test.pairs, best->verdict,
                               best->verdict == "no significant difference"
                                   ? " (more seeds: nos-search final)"
                                   : "");
  } else if (adam) {
    std::cout << fmt::format("adam: metric {} at lr {} (the same child, its rate from the same sweep)\n",
                             adam_metric ? fmt::format("{:.4f}", *adam_metric) : "-",
                             (*adam)["lr"].is_number() ? fmt::format("{:g}", (*adam)["lr"].get<double>()) : "-");
    if (adam_metric && !ranked.empty() && ranked[0].evaluation.stage > 1) {
      std::cout << "the best rules come from the funnel's second stage, which trains longer than Adam's run: "
                   "compare them with nos-search final (or --funnel-baselines adam)\n";
    } else if (adam_metric && !ranked.empty() && ranked[0].evaluation.metric) {
      double best = *ranked[0].evaluation.metric;
      std::cout << (best > *adam_metric    ? "the best rule found beats Adam on this child (one seed: check it over seeds with nos-search final)\n"
                    : best == *adam_metric ? "the best rule found ties with Adam on this child\n"
                                           : "Adam is better than every rule found on this child\n");
    }
  }
  std::cout << fmt::format("database: {}\n{}  nos-search top {}            the full ranking\n"
                           "  nos-search final {}          the best rules against Adam, RMSProp and SGD over seeds\n"
                           "  nos-search export {} --target pytorch -o rule.py\n",
                           db, report_line, db, db, db);
}

// The replicas' log beside the database (for a URL: NAME.replicas.log here).
std::string replica_log(const std::string& db, const std::string& name) {
  return is_url(db) ? name + ".replicas.log" : db + ".replicas.log";
}

// What --replicas needs, refused before anything is written: a strategy with shared parameters,
// the learning of whole batches in order (no --async), no funnel.
void check_replica_options(const SearchConfig& config, const RunOptions& o) {
  if (o.replicas == 0) {
    if (o.sync_replicas) throw tool::UsageError("--sync-replicas needs --replicas N");
    if (o.max_staleness >= 0) throw tool::UsageError("--max-staleness needs --replicas N");
    return;
  }
  if (o.sync_replicas && o.max_staleness >= 0)
    throw tool::UsageError("--max-staleness: a synchronous search applies every update (staleness below --replicas)");
  if (config.async) throw tool::UsageError("--replicas: replicas are asynchronous already; leave out --async");
  if (config.funnel.enabled()) throw tool::UsageError("--replicas: the funnel's second stage is not supported with replicas");
  try {
    make_strategy(config)->save_shared();
  } catch (const std::invalid_argument& e) {
    throw tool::UsageError(fmt::format("--replicas: {}", e.what()));
  }
}

}  // namespace

int run(const RunOptions& options) {
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  controller::register_lstm_strategy();
  const std::string db = options.db.empty() ? default_database() : options.db;

  std::unique_ptr<Storage> storage;
  SearchInfo search;
  SearchConfig config;
  if (!valid_utf8(options.name)) throw tool::UsageError("--name: not valid UTF-8 text");
  if (options.resume) {
    if (options.db.empty())
      throw tool::UsageError("--resume needs --db: the search database to continue (nos-search status DB lists its searches)");
    storage = open_storage(db, OpenMode::Open);
    DatabaseOptions which{db, options.given.count("--name") ? options.name : ""};
    search = choose_search(*storage, which);
    SearchConfig stored = stored_config(search, storage->location());
    config = configure(stored, options);  // --workers, --device (this run's workers and baseline), budgets
    check_unchanged_on_resume(stored, config, mask_password(db));
    check_device(config, options);
    // The data may have changed since the search began: checked again before workers start.
    if (config.child.synthetic < 0)
      for (const std::string& warning : preflight(config)) fmt::print(stderr, "nos-search: warning: {}\n", warning);
  } else {
    config = configure(SearchConfig{}, options);
    // An unknown strategy or option, data that cannot be read: refused before any file is written.
    make_strategy(config, options.config_file);
    check_replica_options(config, options);
    check_device(config, options);
    // The child's whole configuration and its data, as every worker would check them.
    if (config.child.synthetic < 0) {
      runtime::Objective objective = runtime::Objective::Classification;
      for (const std::string& warning : preflight(config, &objective)) fmt::print(stderr, "nos-search: warning: {}\n", warning);
      // Stored resolved, so the reward and every display know it without the data; classification
      // stays unwritten (Auto reads as it), as in the searches stored before objectives existed.
      if (objective != runtime::Objective::Classification) config.child.objective = objective;
    }
    storage = open_storage(db, OpenMode::Create);
    search.id = storage->create_search(options.name, json_text(to_json(config)), config.lease);
    search = *storage->find_search(options.name);
  }
  storage->lock_search(search.id);  // one run per search: a flock (SQLite), an advisory lock (PostgreSQL)
  if (options.resume) {  // the budgets this run works to, where `status` (and the next --resume) reads them
    nlohmann::json stored = nlohmann::json::parse(search.config_json);
    stored["budget"] = config.budget;
    stored["time_budget"] = config.time_budget;
    storage->update_config(search.id, stored.dump());
  }
  std::unique_ptr<controller::Strategy> strategy = make_strategy(config);
  // The policy is small: one thread, so that its updates neither take a core from a worker nor
  // leave OpenBLAS threads spinning beside them (runtime/cpu_threads.h).
  runtime::set_cpu_threads(1);
  ProgressPrinter progress(isatty(STDERR_FILENO) != 0);

  // Leases of workers of an earlier run that are gone (killed with it) go back to the queue, not
  // counted as failures: the candidate did nothing wrong.
  int released = 0;
  for (const Lease& lease : storage->running(search.id))
    if (is_dead_local_worker(lease.owner)) storage->release(lease), ++released;
  if (released) progress.note(fmt::format("{} task(s) of the stopped run's workers back in the queue", released));

  int workers = config.workers >= 0 ? config.workers : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const std::string shown = mask_password(db);  // what output may show of the location
  // The workers' log beside the database (for a URL: NAME.workers.log here).
  WorkerPool pool({self_executable(), "worker", "--db", db, "--search", search.name, "--device", config.child.device},
                  is_url(db) ? search.name + ".workers.log" : db + ".workers.log");
  pool.start(workers);
  if (workers == 0)
    progress.note(fmt::format("no local workers: start them with nos-search worker --db {} --search {} (here or on "
                              "other machines)",
                              shown, search.name));
  if (!options.quiet)
    progress.note(fmt::format("search '{}' in {}: strategy {}, budget {} candidates in batches of {}, {} worker(s) "
                              "(log: {})",
                              search.name, shown, config.strategy, config.budget, strategy->batch_size(), workers, pool.log_path()));

  LoopEvents events;
  events.on_batch = [&](const SearchProgress& p) { if (!options.quiet) progress.batch(p); };
  events.on_wait = [&](const SearchProgress& p) { if (!options.quiet) progress.wait(p); };
  events.on_note = [&](const std::string& line) { progress.note(line); };
  events.poll_workers = [&] { return pool.poll(*storage, search.id); };
  // Controller replicas instead of the one controller: their settings are stored with the search.
  std::optional<ReplicaSettings> replicas = stored_replica_settings(*storage, search.id);
  if (!options.resume && options.replicas > 0) {
    replicas = ReplicaSettings{options.replicas, options.sync_replicas, options.max_staleness};
    store_replica_settings(*storage, search.id, *replicas);
  }
  LoopEnd end = LoopEnd::Budget;
  if (replicas) {
    if (!options.quiet)
      progress.note(fmt::format("{} controller replica(s){} (log: {})", replicas->replicas,
                                replicas->synchronous ? ", synchronous" : "", replica_log(db, search.name)));
    end = run_replica_processes(*storage, search, db, *replicas, replica_log(db, search.name), stop_requested,
                                events.on_note, events.poll_workers);
  } else {
    SearchLoop loop(*storage, search.id, config, *strategy, events);
    end = loop.run(&stop_requested);
  }
  pool.stop(storage.get(), search.id);
  progress.clear();
  if (end == LoopEnd::Stopped) {
    if (config.async)  // its proposals depended on timing: it cannot be resumed (search_loop.cpp)
      fmt::print(stderr, "nos-search: stopped; every finished evaluation is stored. An --async search cannot be "
                         "resumed; read its results with:\n  nos-search top {}\n", shown);
    else
      fmt::print(stderr, "nos-search: stopped; every finished evaluation is stored. Continue with:\n"
                         "  nos-search run --db {} --resume\n", shown);
    return 130;
  }
  if (end == LoopEnd::TimeBudget) progress.note(fmt::format("the time budget ({}) is spent", duration_text(config.time_budget)));
  nlohmann::json adam;
  const bool baseline = options.baseline && config.child.synthetic < 0;  // a synthetic child has no Adam
  if (baseline) adam = adam_baseline(*storage, search.id, config, progress);
  std::string report_line;
  if (options.report) {
    ReportOptions report_options;
    report_options.db = {db, search.name};
    report_options.output = options.report_dir.empty() ? default_report_dir(db, search.name) : options.report_dir;
    try {
      report_options.quiet = true;  // report's own line: the summary says where it is
      report(report_options);
      report_line = fmt::format("report: {}/index.html\n", report_options.output);
    } catch (const std::exception& e) {
      report_line = fmt::format("no report: {}\n", e.what());
    }
  }
  print_summary(*storage, search, baseline ? &adam : nullptr, shown, report_line);
  return 0;
}

}  // namespace nos::search::cli
