// nos-search final: the method's "train the target network with the rule found". The search's top
// K rules, the controller's greedy rule and LibTorch's baselines are trained again over S seeds,
// each with the search's learning-rate protocol, on the search's task and on a transfer task when
// one is given; a table and a verdict on stdout, one line per training on stderr, the JSON
// document in --json and in the search's next `final:N` artifact (every run of final is kept).
#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "tools/nos_search/commands.h"
#include "tools/nos_search/final_artifacts.h"
#include "tools/nos_search/final_training.h"
#include "tools/nos_search/metric_label.h"
#include "tools/nos_search/open_search.h"
#include "tools/nos_search/table.h"
#include "controller/search/config_file.h"
#include "controller/search/standing.h"
#include "dsl/diagnostic.h"
#include "dsl/tokens.h"
#include "runtime/data/dataset.h"
#include "runtime/evaluate.h"
#include "runtime/task_file.h"
#include "support/atomic_file.h"
#include "tools/tool_main.h"
#include "runtime/json_text.h"
#include "support/json_number.h"

namespace nos::search::cli {
namespace {

using nlohmann::json;

constexpr std::size_t kRuleWidth = 48;
// Salts the search's seed for final's trainings: other seeds than any candidate's child had.
constexpr std::uint64_t kFinalSeedSalt = 0xf1a15eedULL;
constexpr std::string_view kBaselines[] = {"adam", "rmsprop", "sgd"};

std::vector<std::string> parse_baselines(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty() || text == "none") return out;
  for (std::size_t start = 0;;) {
    std::size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool known = false;
    for (std::string_view b : kBaselines) known = known || b == name;
    if (!known)
      throw tool::UsageError(fmt::format("--baselines: unknown optimizer '{}' (known: adam, rmsprop, sgd; or none)", name));
    for (const std::string& seen : out)
      if (seen == name) throw tool::UsageError(fmt::format("--baselines: '{}' is named twice", name));
    out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

compiler::CompiledRule compile_stored(const std::string& location, const Candidate& c) {
  try {
    return compiler::compile_one(compiler::RuleSource::text(c.rule));
  } catch (const dsl::Error& e) {
    throw std::invalid_argument(
        fmt::format("{}: candidate {}'s stored rule does not compile: {}", location, c.index, e.diagnostic().render()));
  }
}

// The top K rules with a result to retrain: ok (or out of time with a metric), as `top` ranks them.
std::vector<FinalOptimizer> ranked_rules(Storage& storage, const SearchInfo& search, int k, std::vector<std::string>& notes) {
  std::vector<FinalOptimizer> out;
  int rank = 0;
  // In a per-seed funnel, by the mean over seeds, as `top` ranks (else the storage's order).
  for (const RankedResult& r :
       nos::search::ranked_rules(storage, search.id, 0, default_rank_by(per_seed_search(search)))) {
    ++rank;
    const Evaluation& e = r.evaluation;
    if (!usable(e.status) || !e.metric) continue;
    FinalOptimizer o;
    o.name = fmt::format("rank {}", rank);
    o.kind = FinalKind::Rule;
    o.rule = compile_stored(storage.location(), r.candidate);
    o.search = {{"rank", rank},         {"candidate", r.candidate.index}, {"tokens", r.candidate.tokens},
                {"stage", e.stage},     {"status", name(e.status)},             {"reward", support::number_or_null(e.reward)},
                {"metric", support::number_or_null(e.metric)}, {"lr", support::number_or_null(e.lr)}};
    out.push_back(std::move(o));
    if (static_cast<int>(out.size()) == k) break;
  }
  if (out.empty())
    throw StorageError(fmt::format("{}: search '{}' has no ranked rule with a result yet: nothing to retrain (run the "
                                   "search first)",
                                   storage.location(), search.name));
  if (static_cast<int>(out.size()) < k)
    notes.push_back(fmt::format("--top {}: the search has only {} rule{} with a result", k, out.size(),
                                out.size() == 1 ? "" : "s"));
  return out;
}

// The controller's own choice (the lstm's greedy decode, evolution's best member) from its state
// after the latest batch; none for the random strategy or before the first batch.
std::optional<FinalOptimizer> greedy_rule(Storage& storage, const SearchInfo& search, const SearchConfig& config,
                                          std::vector<FinalOptimizer>& rules, std::vector<std::string>& notes) {
  std::optional<StrategyState> state = storage.latest_strategy_state(search.id);
  if (!state) {
    notes.push_back(fmt::format("no greedy rule: the {} strategy has saved no state yet", config.strategy));
    return std::nullopt;
  }
  std::unique_ptr<controller::Strategy> strategy = make_strategy(config);
  try {
    strategy->restore(state->bytes);
  } catch (const std::invalid_argument& e) {
    throw StorageError(fmt::format("{}: search '{}': the {} strategy's state of batch {} cannot be restored: {}",
                                   storage.location(), search.name, config.strategy, state->batch, e.what()));
  }
  std::vector<controller::Proposal> best = strategy->best(1);
  if (best.empty()) {
    notes.push_back(fmt::format("no greedy rule: the {} strategy has none", config.strategy));
    return std::nullopt;
  }
  std::string tokens = dsl::print_tokens(best.front().tokens);
  FinalOptimizer o;
  o.name = "greedy";
  o.kind = FinalKind::Greedy;
  try {
    o.rule = compiler::compile_one(compiler::RuleSource::tokens(tokens));
  } catch (const dsl::Error& e) {
    notes.push_back(fmt::format("the {} strategy's greedy rule ({}) does not compile: {}", config.strategy, tokens,
                                e.diagnostic().render()));
    return std::nullopt;
  }
  for (FinalOptimizer& r : rules)
    if (r.rule->hash == o.rule->hash) {
      notes.push_back(fmt::format("the {} strategy's greedy rule is {}'s rule", config.strategy, r.name));
      r.search["greedy"] = true;
      return std::nullopt;
    }
  o.search = {{"tokens", tokens}, {"batch", state->batch}, {"strategy", config.strategy}};
  return o;
}

std::vector<std::uint64_t> final_seeds(const SearchConfig& config, int count) {
  std::vector<std::uint64_t> seeds;
  for (int s = 0; s < count; ++s) seeds.push_back(child_seed(config.seed ^ kFinalSeedSalt, s));
  return seeds;
}

// The search's learning-rate protocol with --lr-grid and --lr-sweep over it: the same for every
// optimizer, rules and baselines, on every task. A bad value is a usage error (exit 2).
LrConfig final_lr(LrConfig lr, const FinalOptions& o) {
  if (!o.lr_grid.empty()) {
    try {
      lr.grid = parse_lr_grid(o.lr_grid);
    } catch (const std::invalid_argument& e) {
      throw tool::UsageError(fmt::format("--lr-grid: {}", e.what()));
    }
    lr.fixed.reset();
  }
  if (!o.lr_sweep.empty()) {
    std::optional<LrSweep> sweep = parse_lr_sweep(o.lr_sweep);
    if (!sweep) throw tool::UsageError(fmt::format("--lr-sweep: expected exhaustive or halving, not '{}'", o.lr_sweep));
    lr.sweep = *sweep;
    lr.fixed.reset();
  }
  return lr;
}

// The search task, with --search-epochs and --search-train-subset applied (and remembered).
FinalTask search_task(const SearchConfig& config, const FinalOptions& o) {
  FinalTask task{"search", config, {}, {}, final_seeds(config, o.seeds),
                 o.threads > 0 ? o.threads : config.threads_per_worker, o.time_budget};
  ChildConfig& child = task.config.child;
  if (o.search_epochs > 0 && o.search_epochs != child.epochs) {
    task.searched_epochs = child.epochs;
    child.epochs = o.search_epochs;
  }
  if (o.search_train_subset >= 0 && o.search_train_subset != child.train_subset) {
    task.searched_train_subset = child.train_subset;
    child.train_subset = o.search_train_subset;
  }
  if (std::string problem = config_problem(task.config); !problem.empty())
    throw std::invalid_argument(fmt::format("the search task (--search-epochs, --search-train-subset): {}", problem));
  return task;
}

std::string subset_text(std::int64_t n) { return n > 0 ? std::to_string(n) : "all"; }

// The transfer task: the search's, then --task's file over it, then the options given.
SearchConfig transfer_config(SearchConfig config, const FinalOptions& o) {
  if (!o.task_file.empty()) config.child.task() = runtime::read_task_file(o.task_file, config.child.task());
  if (!o.data.empty()) config.child.data = o.data;
  if (!o.model.empty()) config.child.model.name = o.model;
  if (!o.hidden.empty()) config.child.model.hidden = o.hidden;
  if (o.epochs > 0) config.child.epochs = o.epochs;
  if (o.train_subset >= 0) config.child.train_subset = o.train_subset;
  if (std::string problem = config_problem(config); !problem.empty())
    throw std::invalid_argument(
        fmt::format("the transfer task (--task, --data, --model, --hidden, --epochs, --train-subset): {}", problem));
  return config;
}

std::string describe(const FinalTask& t) {
  const ChildConfig& c = t.config.child;
  std::string hidden;
  for (std::int64_t h : c.model.hidden) hidden += (hidden.empty() ? "" : ",") + std::to_string(h);
  std::string lr = search::describe(t.config.lr);
  // A changed search task says so first: its results are not the searched task's.
  std::string changed;
  if (t.searched_epochs) changed += fmt::format("{} epoch{}, not {}", c.epochs, c.epochs == 1 ? "" : "s", *t.searched_epochs);
  if (t.searched_train_subset)
    changed += fmt::format("{}train subset {}, not {}", changed.empty() ? "" : "; ", subset_text(c.train_subset),
                           subset_text(*t.searched_train_subset));
  if (!changed.empty()) changed = " (changed from the search's: " + changed + ")";
  return fmt::format("{} task{}: {}, {}{}, {} epoch{}, train subset {}, {} over {} seed{}, {}", t.name, changed, c.data,
                     c.model.name, c.model.name == "mlp" ? " [" + hidden + "]" : "", c.epochs, c.epochs == 1 ? "" : "s",
                     subset_text(c.train_subset), runtime::name(c.metric), t.seeds.size(),
                     t.seeds.size() == 1 ? "" : "s", lr);
}

std::string format_metric(const std::optional<double>& x) { return x ? fmt::format("{:.4f}", *x) : "-"; }

std::string signed_metric(double x) { return fmt::format("{:+.4f}", x); }

// Every found rule against every baseline: the paired difference, its interval, p, the verdict.
std::string pairs_table(const std::vector<PairVerdict>& pairs) {
  std::vector<std::vector<std::string>> rows;
  for (const PairVerdict& pair : pairs) {
    const std::optional<PairedComparison>& c = pair.verdict.comparison;
    std::string seeds = c ? std::to_string(c->pairs) : "-";
    if (c && c->excluded) seeds += fmt::format(" ({} left out)", c->excluded);
    rows.push_back({pair.rule, pair.baseline, seeds, c && c->pairs ? signed_metric(c->mean_difference) : "-",
                    c && c->ci_low ? fmt::format("[{}, {}]", signed_metric(*c->ci_low), signed_metric(*c->ci_high)) : "-",
                    c && c->p ? fmt::format("{:.2g}", *c->p) : "-", short_verdict(pair.verdict),
                    seeds_to_tell_text(pair.verdict)});
  }
  return render_table({{"found rule"},
                       {"vs baseline"},
                       {"paired seeds", true},
                       {"difference", true},
                       {"95 % CI", true},
                       {"p", true},
                       {"verdict"},
                       {"seeds to tell", true}},
                      rows);
}

void print_table(const FinalTask& task, const std::vector<FinalResult>& results, const std::vector<PairVerdict>& pairs,
                 const std::string& verdict) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const FinalResult& r = results[i];
    const FinalOptimizer& o = r.optimizer;
    std::string name = o.torch_optimizer == "sgd" ? fmt::format("sgd (momentum {:g})", o.momentum) : o.name;
    rows.push_back({std::to_string(i + 1), name, cli::name(o.kind), format_metric(r.mean), format_metric(r.std),
                    fmt::format("{}/{}", r.ok, task.seeds.size()), lr_summary(r.lrs),
                    o.rule ? o.rule->hash_hex() : "-", o.rule ? truncate(o.rule->canonical_text, kRuleWidth) : "-"});
  }
  if (std::string note = metric_note(task.config.child.objective); !note.empty()) std::cout << note << '\n';
  std::cout << describe(task) << '\n'
            << fmt::format("every optimizer, found rules and LibTorch's alike, chose its rate by the same protocol: {}\n",
                           search::describe(task.config.lr))
            << render_table({{"place", true},
                             {"optimizer"},
                             {"kind"},
                             {"mean", true},
                             {"std", true},
                             {"ok", true},
                             {"lr (per seed)", true},
                             {"hash"},
                             {"rule"}},
                            rows);
  if (!pairs.empty())
    std::cout << "paired by seed (rule minus baseline; a two-sided paired t-test at 5 %):\n" << pairs_table(pairs);
  std::cout << verdict << "\n";
}

// Trains, prints and returns the task's part of the document.
json run_task(const FinalTask& task, const std::vector<FinalOptimizer>& optimizers, const runtime::Dataset& data) {
  const char* metric = runtime::name(task.config.child.metric);
  std::cerr << fmt::format("nos-search final: {}\n", describe(task));
  FinalProgress progress = [&](const FinalOptimizer& o, std::size_t s, const json& run) {
    std::cerr << fmt::format("  {} task, seed {}/{}, {}: {} {} at lr {:g}, {} ({:.1f} s)\n", task.name, s + 1,
                             task.seeds.size(), o.name, metric,
                             run["metric"].is_number() ? fmt::format("{:.4f}", run["metric"].get<double>()) : "-",
                             run["lr"].get<double>(), run["status"].get<std::string>(),
                             run["timings"]["total"].get<double>());
  };
  std::vector<FinalResult> results = retrain(task, optimizers, data, progress);
  rank_results(results);
  Verdict v = verdict(results, metric);
  std::vector<PairVerdict> pairs = comparisons(results, metric);
  print_table(task, results, pairs, v.sentence);
  json out = {{"task", task_json(task)},
              {"results", json::array()},
              {"verdict", v.sentence},
              {"comparison", verdict_json(v, results)},
              {"comparisons", comparisons_json(pairs)}};
  for (const FinalResult& r : results) out["results"].push_back(result_json(r));
  return out;
}

void write_json(const std::string& path, const json& document) {
  try {
    support::write_file_atomically(path, json_text(document, 2) + "\n");
  } catch (const support::FileError& e) {
    throw support::FileError(e.code().value(), fmt::format("{}: cannot write the JSON", path));
  }
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What this run of final was asked for, stored with its results: finals are compared later.
json settings_json(const FinalOptions& o, const std::vector<std::string>& baselines) {
  json transfer = nullptr;
  if (o.transfer_given()) {
    transfer = json::object();
    if (!o.task_file.empty()) transfer["task"] = o.task_file;
    if (!o.data.empty()) transfer["data"] = o.data;
    if (!o.model.empty()) transfer["model"] = o.model;
    if (!o.hidden.empty()) transfer["hidden"] = o.hidden;
    if (o.epochs > 0) transfer["epochs"] = o.epochs;
    if (o.train_subset >= 0) transfer["train_subset"] = o.train_subset;
  }
  return {{"top", o.top},
          {"seeds", o.seeds},
          {"baselines", baselines},
          {"sgd_momentum", o.sgd_momentum},
          {"greedy", !o.no_greedy},
          {"search_epochs", o.search_epochs > 0 ? json(o.search_epochs) : json(nullptr)},
          {"search_train_subset", o.search_train_subset >= 0 ? json(o.search_train_subset) : json(nullptr)},
          {"transfer", transfer},
          {"threads", o.threads},
          {"time_budget", o.time_budget},
          {"lr_grid", o.lr_grid.empty() ? json(nullptr) : json(o.lr_grid)},
          {"lr_sweep", o.lr_sweep.empty() ? json(nullptr) : json(o.lr_sweep)}};
}

}  // namespace

int final_retrain(const FinalOptions& options) {
  std::vector<std::string> baselines = parse_baselines(options.baselines);
  final_lr(LrConfig{}, options);  // a bad --lr-grid or --lr-sweep before the database is opened
  auto storage = open_storage(options.db.database, options.no_store ? OpenMode::ReadOnly : OpenMode::Open);
  SearchInfo search = choose_search(*storage, options.db);
  SearchConfig config = stored_config(search, storage->location());
  config.lr = final_lr(config.lr, options);

  std::vector<std::string> notes;
  if (config.child.synthetic >= 0)
    notes.push_back("the search's child is synthetic (a scale test: its metrics are no training's): final trains the "
                    "real child, " + config.child.data);
  std::vector<FinalOptimizer> optimizers = ranked_rules(*storage, search, options.top, notes);
  if (!options.no_greedy)
    if (std::optional<FinalOptimizer> greedy = greedy_rule(*storage, search, config, optimizers, notes))
      optimizers.push_back(std::move(*greedy));
  for (const std::string& b : baselines) {
    FinalOptimizer o;
    o.name = b;
    o.kind = FinalKind::Baseline;
    o.torch_optimizer = b;
    if (b == "sgd") o.momentum = options.sgd_momentum;
    optimizers.push_back(std::move(o));
  }
  for (const std::string& n : notes) std::cerr << "nos-search: note: " << n << '\n';

  FinalTask task = search_task(config, options);
  std::optional<FinalTask> transfer;
  if (options.transfer_given()) {
    transfer = task;
    transfer->name = "transfer";
    transfer->config = transfer_config(config, options);  // from the search's own child
    transfer->searched_epochs.reset();
    transfer->searched_train_subset.reset();
  }
  // Both data sets before any training: a missing transfer file fails at once.
  runtime::Dataset data = runtime::load_dataset(config.child.data);
  runtime::Dataset transfer_data;
  if (transfer && transfer->config.child.data != config.child.data)
    transfer_data = runtime::load_dataset(transfer->config.child.data);

  double started_at = unix_now();
  json searched = run_task(task, optimizers, data);
  json document = {{"search", search.name},
                   {"database", storage->location()},
                   {"settings", settings_json(options, baselines)},
                   {"started_at", started_at},
                   {"task", searched["task"]},
                   {"results", searched["results"]},
                   {"verdict", searched["verdict"]},
                   {"comparison", searched["comparison"]},
                   {"comparisons", searched["comparisons"]},
                   {"notes", notes},
                   {"transfer", nullptr}};
  int exit_code = tool::kOk;
  if (transfer) {
    std::cout << '\n';
    try {
      document["transfer"] =
          run_task(*transfer, optimizers, transfer->config.child.data != config.child.data ? transfer_data : data);
    } catch (const std::invalid_argument& e) {
      // The search task's results are kept (printed, stored); the transfer task is reported.
      std::cerr << "nos-search: error: " << e.what() << '\n';
      document["transfer"] = {{"task", task_json(*transfer)}, {"error", e.what()}};
      exit_code = tool::kInvalid;
    }
  }
  document["finished_at"] = unix_now();
  document["seconds"] = document["finished_at"].get<double>() - started_at;
  if (!options.no_store) {
    std::vector<std::string> earlier = final_keys(storage->artifact_keys(search.id));
    std::string key = store_final(*storage, search.id, document);
    document["key"] = key;
    document["number"] = *final_number(key);
    std::string list;
    for (const std::string& k : earlier) list += (list.empty() ? "" : ", ") + k;
    std::cerr << fmt::format("nos-search: stored as the artifact '{}' of search '{}' in {}{}\n", key, search.name,
                             storage->location(), earlier.empty() ? "" : " (earlier finals, kept: " + list + ")");
  }
  if (!options.json.empty()) write_json(options.json, document);
  return exit_code;
}

}  // namespace nos::search::cli
