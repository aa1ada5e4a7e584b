#include "tools/nos_search/run_options.h"

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "compiler/codegen/kernel_abi.h"
#include "controller/search/config_file.h"
#include "runtime/task_file.h"
#include "tools/options.h"
#include "tools/tool_main.h"

namespace nos::search::cli {
namespace {

using tool::UsageError;

std::vector<double> parse_grid(const std::string& text) {
  try {
    return parse_lr_grid(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--lr-grid: {}", e.what()));
  }
}

LrSweep parse_sweep(const std::string& text) {
  std::optional<LrSweep> sweep = parse_lr_sweep(text);
  if (!sweep) throw UsageError(fmt::format("--lr-sweep: expected exhaustive or halving, not '{}'", text));
  return *sweep;
}

// "adam,rmsprop" -> {"adam", "rmsprop"}; each a baseline the configuration accepts (config_problem).
std::vector<std::string> parse_names(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item != "adam" && item != "rmsprop" && item != "sgd")
      throw UsageError(fmt::format("--funnel-baselines: '{}' is not a baseline (adam, rmsprop or sgd)", item));
    names.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

double parse_child(const std::string& child) {
  const std::string prefix = "synthetic:";
  if (child == "train") return -1;
  char* end = nullptr;
  double seconds = child.rfind(prefix, 0) == 0 ? std::strtod(child.c_str() + prefix.size(), &end) : -1;
  if (!end || *end != '\0' || child.size() == prefix.size() || !(seconds >= 0) || seconds > 86400)
    throw UsageError(fmt::format("--child: expected train or synthetic:SECONDS (0 .. 86400), not '{}'", child));
  return seconds;
}

// An option that sets a strategy option (--batch) and the same key given by -O must agree.
void set_strategy_option(SearchConfig& c, const RunOptions& o, const char* option, const std::string& key,
                         const std::string& value) {
  for (const std::string& item : o.strategy_options)
    if (item.starts_with(key + "=") && item.substr(key.size() + 1) != value)
      throw UsageError(fmt::format("{} {} and --strategy-option {} disagree: give one", option, value, item));
  c.strategy_options[key] = value;
}

using App = CLI::App;
using O = RunOptions;
using C = SearchConfig;
constexpr auto Fixed = OnResume::Fixed;
constexpr auto Changes = OnResume::Changes;
constexpr auto RunOnly = OnResume::RunOnly;

// One row per option, in the order of `run --help` and of configure().
const RunOption kRunOptions[] = {
    {"--config", "", Fixed,  // the whole configuration: configure() reads it first
     [](App& a, O& o) {
       return a.add_option("--config", o.config_file,
                           "a JSON configuration (keys and defaults: docs/search.md; examples/search.json); options given "
                           "here replace its keys");
     },
     nullptr},
    {"--task", "child", Fixed,  // the child's task keys, over --config's; the options below replace its keys
     [](App& a, O& o) {
       return a.add_option("--task", o.task_file,
                           "a task file: the child's model, data and budget (child.* keys; docs/tasks.md, "
                           "examples/tasks/); over --config's, options given here replace its keys");
     },
     [](C& c, const O& o) { c.child.task() = runtime::read_task_file(o.task_file, c.child.task()); }},
    {"--db", "", RunOnly,
     [](App& a, O& o) {
       return a.add_option("--db", o.db, "the search database to create: an SQLite file (default: search-YYYYmmdd-HHMMSS.db) or a "
                           "postgresql:// URL (docs/distributed.md)");
     },
     nullptr},
    {"--name", "", RunOnly,
     [](App& a, O& o) { return a.add_option("--name", o.name, "the search's name in the database")->capture_default_str(); },
     nullptr},
    {"--child", "child.synthetic", Fixed,
     [](App& a, O& o) {
       return a.add_option("--child", o.child,
                           "train (default: the child network) or synthetic:SECONDS (scale tests: sleeps, then a metric "
                           "that is a deterministic function of the rule)");
     },
     [](C& c, const O& o) { c.child.synthetic = parse_child(o.child); }},
    {"--data", "child.data", Fixed,
     [](App& a, O& o) { return a.add_option("--data", o.data, "the child's data: fashion-mnist, an IDX directory or prefix, a .csv, a NumPy .npz or X.npy,Y.npy"); },
     [](C& c, const O& o) { c.child.data = o.data; }},
    {"--model", "child.model", Fixed,
     [](App& a, O& o) {
       return a.add_option("--model", o.model, "the child network: mlp, convnet, resnet, textrnn, textcnn (token sequences) or a TorchScript file (docs/tasks.md)")
           ->check(nos::tool::model_validator());
     },
     [](C& c, const O& o) { c.child.model.name = o.model; }},
    {"--hidden", "child.hidden", Fixed,
     [](App& a, O& o) {
       return a.add_option("--hidden", o.hidden, "mlp hidden layer widths, comma-separated (default 256)")
           ->delimiter(',')
           ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
     },
     [](C& c, const O& o) { c.child.model.hidden = o.hidden; }},
    {"--strategy", "strategy", Fixed,
     [](App& a, O& o) { return a.add_option("--strategy", o.strategy, "lstm (the method's controller), evolution or random"); },
     [](C& c, const O& o) { c.strategy = o.strategy; }},
    {"--algorithm", "strategy_options.algorithm", Fixed,
     [](App& a, O& o) { return a.add_option("--algorithm", o.algorithm, "lstm: ppo or reinforce"); },
     [](C& c, const O& o) { set_strategy_option(c, o, "--algorithm", "algorithm", o.algorithm); }},
    {"--strategy-option", "strategy_options", Fixed,
     [](App& a, O& o) { return a.add_option("--strategy-option,-O", o.strategy_options, "KEY=VALUE: any option of the strategy"); },
     [](C& c, const O& o) {
       for (const std::string& item : o.strategy_options) {
         std::size_t eq = item.find('=');
         if (eq == std::string::npos || eq == 0)
           throw UsageError(fmt::format("--strategy-option: expected key=value, not '{}'", item));
         c.strategy_options[item.substr(0, eq)] = item.substr(eq + 1);
       }
     }},
    {"--budget", "budget", Changes,
     [](App& a, O& o) {
       return a.add_option("--budget", o.budget, "candidates to propose (default 400; whole batches)")
           ->check(tool::range_validator(1, static_cast<double>(kMaxBudget)));
     },
     [](C& c, const O& o) { c.budget = o.budget; }},
    {"--time-budget", "time_budget", Changes,
     [](App& a, O& o) {
       return a.add_option("--time-budget", o.time_budget, "seconds of search; the batch in progress finishes")
           ->check(tool::non_negative_validator());
     },
     [](C& c, const O& o) { c.time_budget = o.time_budget; }},
    {"--batch", "strategy_options.batch", Fixed,
     [](App& a, O& o) {
       return a.add_option("--batch", o.batch, "candidates per batch (default 20)")
           ->check(tool::range_validator(1, static_cast<double>(controller::kMaxBatch)));
     },
     [](C& c, const O& o) { set_strategy_option(c, o, "--batch", "batch", std::to_string(o.batch)); }},
    {"--groups", "strategy_options.groups", Fixed,
     [](App& a, O& o) {
       return a.add_option("--groups", o.groups, "groups per rule, or a schedule such as 1:100,2:300,3 (default 2)");
     },
     [](C& c, const O& o) { set_strategy_option(c, o, "--groups", "groups", o.groups); }},
    {"--workers", "workers", Changes,
     [](App& a, O& o) {
       return a.add_option("--workers", o.workers,
                           "local worker processes (default: one per core; 0: none, workers started by hand with "
                           "nos-search worker, here or on other machines, train)")
           ->check(CLI::Range(0, 1024));
     },
     [](C& c, const O& o) { c.workers = o.workers; }},
    {"--device", "child.device", Changes,
     [](App& a, O& o) {
       return a.add_option("--device", o.device,
                           "where the local workers and the Adam baseline train: cpu, cuda or cuda:N (child.device; "
                           "default cpu; a worker's own --device replaces it)")
           ->check(tool::device_validator());
     },
     [](C& c, const O& o) { c.child.device = o.device; }},
    {"--cuda-graphs", "child.cuda_graphs", Changes,
     [](App& a, O& o) {
       return a.add_flag("--cuda-graphs", o.cuda_graphs,
                         "CUDA: each child's training step is captured once in a CUDA graph and replayed "
                         "(child.cuda_graphs; unmeasured, see docs/gpu.md); eager where impossible");
     },
     [](C& c, const O& o) { c.child.cuda_graphs = o.cuda_graphs; }},
    {"--threads-per-worker", "threads_per_worker", Fixed,
     [](App& a, O& o) {
       return a.add_option("--threads-per-worker", o.threads_per_worker, "LibTorch threads of each worker (default 1)")
           ->check(CLI::Range(1, 1024));
     },
     [](C& c, const O& o) { c.threads_per_worker = o.threads_per_worker; }},
    {"--epochs", "child.epochs", Fixed,
     [](App& a, O& o) {
       return a.add_option("--epochs", o.epochs, "child training epochs (default 5)")->check(CLI::Range(1, 100000));
     },
     [](C& c, const O& o) { c.child.epochs = o.epochs; }},
    {"--train-subset", "child.train_subset", Fixed,
     [](App& a, O& o) {
       return a.add_option("--train-subset", o.train_subset, "child training examples (default 10000; 0: all)")
           ->check(tool::non_negative_validator());
     },
     [](C& c, const O& o) { c.child.train_subset = o.train_subset; }},
    {"--lr-grid", "lr.grid", Fixed,
     [](App& a, O& o) {
       return a.add_option("--lr-grid", o.lr_grid,
                           "the learning-rate sweep's rates, comma-separated, or a named grid: default (0.001,0.01,0.1,1), "
                           "fine (8 rates log-spaced over 1e-4 .. 1), half-decades (1e-4, 3e-4, ..., 0.3, 1)");
     },
     [](C& c, const O& o) { c.lr.grid = parse_grid(o.lr_grid), c.lr.fixed.reset(); }},
    {"--lr-sweep", "lr.sweep", Fixed,
     [](App& a, O& o) {
       return a.add_option("--lr-sweep", o.lr_sweep,
                           "how the grid is swept: exhaustive (every rate for lr.sweep_epochs; default) or halving "
                           "(successive halving: every rate on a fraction of the examples, the better half on twice as "
                           "many, until one remains; docs/search.md)");
     },
     [](C& c, const O& o) { c.lr.sweep = parse_sweep(o.lr_sweep), c.lr.fixed.reset(); }},
    {"--lr", "lr.fixed", Fixed,
     [](App& a, O& o) {
       return a.add_option("--lr", o.lr, "one fixed learning rate instead of the sweep")->check(tool::learning_rate_validator());
     },
     [](C& c, const O& o) { c.lr.fixed = o.lr; }},
    {"--funnel-top", "funnel.top_fraction", Fixed,
     [](App& a, O& o) {
       return a.add_option("--funnel-top", o.funnel_top,
                           "the funnel's second stage: the best FRACTION of each batch trained again on --funnel-epochs "
                           "and the whole training split (default 0: no second stage)")
           ->check(tool::range_validator(0, 1));
     },
     [](C& c, const O& o) { c.funnel.top_fraction = o.funnel_top; }},
    {"--funnel-epochs", "funnel.epochs", Fixed,
     [](App& a, O& o) {
       return a.add_option("--funnel-epochs", o.funnel_epochs, "epochs of the second stage (default 10)")->check(CLI::Range(1, 100000));
     },
     [](C& c, const O& o) { c.funnel.epochs = o.funnel_epochs; }},
    {"--funnel-seeds", "funnel.seeds", Fixed,
     [](App& a, O& o) {
       return a.add_option("--funnel-seeds", o.funnel_seeds,
                           "train each second-stage candidate on K seeds, the same K for every candidate; `top` ranks "
                           "by the mean over them (default 1)")
           ->check(CLI::Range(1, kMaxFunnelSeeds));
     },
     [](C& c, const O& o) { c.funnel.seeds = o.funnel_seeds; }},
    {"--funnel-baselines", "funnel.baselines", Fixed,
     [](App& a, O& o) {
       return a.add_option("--funnel-baselines", o.funnel_baselines,
                           "LIST of torch optimizers (adam,rmsprop,sgd) trained on the second stage's seeds, so that each "
                           "rule's difference with them is paired (default none)");
     },
     [](C& c, const O& o) { c.funnel.baselines = parse_names(o.funnel_baselines); }},
    {"--seed", "seed", Fixed,
     [](App& a, O& o) { return tool::add_seed_option(a, "--seed", o.seed, "the search's seed: the same seed gives the same search"); },
     [](C& c, const O& o) { c.seed = o.seed; }},
    {"--resume", "", RunOnly,
     [](App& a, O& o) {
       return a.add_flag("--resume", o.resume, "continue the stopped search in --db (nothing finished is repeated)");
     },
     nullptr},
    {"--no-overlap", "overlap", Fixed,
     [](App& a, O& o) {
       return a.add_flag("!--no-overlap", o.overlap,
                         "propose a batch only after learning from the one before (the method's loop; workers wait at "
                         "every batch's end). By default the next batch is proposed while one is evaluated: still "
                         "deterministic");
     },
     [](C& c, const O& o) { c.overlap = o.overlap; }},
    {"--async", "async", Fixed,
     [](App& a, O& o) {
       return a.add_flag("--async", o.async, "learn from batches as they finish, in any order (not reproducible)");
     },
     [](C& c, const O& o) { c.async = o.async; }},
    {"--no-baseline", "", RunOnly,
     [](App& a, O& o) { return a.add_flag("!--no-baseline", o.baseline, "skip the Adam baseline at the end"); }, nullptr},
    {"--report", "", RunOnly,
     [](App& a, O& o) {
       return a.add_option("--report", o.report_dir, "where the report goes at the end (default: DB's name + -report/)");
     },
     nullptr},
    {"--no-report", "", RunOnly,
     [](App& a, O& o) { return a.add_flag("!--no-report", o.report, "no report at the end"); }, nullptr},
    {"--quiet", "", RunOnly, [](App& a, O& o) { return a.add_flag("--quiet,-q", o.quiet, "no progress output"); }, nullptr},
    // Controller replicas (docs/distributed.md): stored as the search's `replicas` artifact.
    {"--replicas", "", RunOnly,
     [](App& a, O& o) {
       return a.add_option("--replicas", o.replicas,
                           "N controller replicas (lstm), each with its own copy of the controller, sharing its "
                           "parameters through the database (default: one controller)")
           ->check(CLI::Range(1, 256));
     },
     nullptr},
    {"--sync-replicas", "", RunOnly,
     [](App& a, O& o) {
       return a.add_flag("--sync-replicas", o.sync_replicas,
                         "replicas in rounds, updates applied in replica order (reproducible)");
     },
     nullptr},
    {"--max-staleness", "", RunOnly,
     [](App& a, O& o) {
       return a.add_option("--max-staleness", o.max_staleness,
                           "refuse a replica's update sampled more than this many versions before it is applied "
                           "(default: apply every one)")
           ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
     },
     nullptr},
};

}  // namespace

std::span<const RunOption> run_options() { return kRunOptions; }

void add_run_options(CLI::App& run, RunOptions& o) {
  for (const RunOption& option : kRunOptions) option.add(run, o);
}

SearchConfig configure(SearchConfig c, const RunOptions& o) {
  if (!o.config_file.empty()) c = read_config_file(o.config_file);
  for (const RunOption& option : kRunOptions)
    if (option.apply && o.given.count(option.flag)) option.apply(c, o);
  if (std::string problem = config_problem(c); !problem.empty()) throw ConfigError("nos-search run: " + problem);
  return c;
}

std::vector<std::string> keys_changeable_on_resume() {
  std::vector<std::string> keys;
  for (const RunOption& option : kRunOptions)
    if (option.on_resume == OnResume::Changes) keys.emplace_back(option.key);
  return keys;
}

std::vector<std::string> flags_changeable_on_resume() {
  std::vector<std::string> flags;
  for (const RunOption& option : kRunOptions)
    if (option.on_resume == OnResume::Changes) flags.emplace_back(option.flag);
  return flags;
}

}  // namespace nos::search::cli
