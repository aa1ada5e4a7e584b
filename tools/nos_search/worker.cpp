// nos-search worker: one evaluation worker of a search. It reads the search's stored
// configuration, loads and splits the child's data once, then takes candidates first come, first
// served from the database's queue, trains each child by the search's protocol (learning-rate
// sweep, then training) on its device (--device, else the search's child.device) and commits the
// result at once. `run` starts these as subprocesses; by
// hand, more of them on the same database add evaluation throughput.
#include <chrono>
#include <csignal>
#include <thread>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/nos_search/commands.h"
#include "controller/search/config_file.h"
#include "tools/nos_search/open_search.h"
#include "controller/search/child_evaluation.h"
#include "controller/search/synthetic_child.h"
#include "controller/search/worker_loop.h"
#include "runtime/data/dataset.h"
#include "runtime/evaluate.h"

namespace nos::search::cli {
namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true); }

}  // namespace

int worker(const WorkerCommandOptions& options) {
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  // A device this machine lacks is refused before the database is opened: nothing is claimed.
  if (!options.device.empty())
    if (std::string problem = runtime::device_problem(options.device); !problem.empty())
      throw std::invalid_argument("--device: " + problem);
  const std::string& path = options.db.database;
  std::unique_ptr<Storage> storage = open_storage(path, OpenMode::Open);
  SearchInfo search = choose_search(*storage, options.db);
  SearchConfig config = stored_config(search, storage->location());
  if (options.threads > 0) config.threads_per_worker = options.threads;

  const bool synthetic = config.child.synthetic >= 0;
  if (!options.device.empty()) config.child.device = options.device;
  else if (std::string problem = synthetic ? "" : runtime::device_problem(config.child.device); !problem.empty())
    throw std::invalid_argument(fmt::format("{}: search '{}' trains on child.device '{}', and this machine cannot: {} "
                                            "(choose another with --device)",
                                            storage->location(), search.name, config.child.device, problem));
  runtime::Dataset data;
  if (!synthetic) data = runtime::load_dataset(config.child.data);
  std::map<int, runtime::Split> splits;  // by stage: the funnel's second stage trains on more data
  auto split_for = [&](int stage) -> const runtime::Split& {
    auto it = splits.find(stage);
    if (it == splits.end())
      it = splits.emplace(stage, runtime::split_dataset(data, runtime::split_options(child_spec(config, stage, 0)))).first;
    return it->second;
  };
  if (!synthetic) split_for(1);

  TaskEvaluator evaluate = [&](const ClaimedTask& task) {
    if (synthetic) {
      std::this_thread::sleep_for(std::chrono::duration<double>(config.child.synthetic));
      return synthetic_evaluation(config, task, config.child.synthetic);
    }
    runtime::EvaluateSpec spec = child_spec(config, task.lease.stage, task.candidate.index, task.lease.seed);
    runtime::Prepared prepared;
    prepared.split = &split_for(task.lease.stage);
    compiler::CompiledRule rule;
    if (!task.lease.baseline.empty()) {
      spec.torch_optimizer = task.lease.baseline;  // a paired baseline: the same protocol and seed
    } else {
      spec.rule = compiler::RuleSource::tokens(task.candidate.tokens);
      rule = compiler::compile_one(*spec.rule);
      prepared.rule = &rule;
    }
    EvaluationResult result = to_evaluation(config, task.lease.stage, evaluate_child(config, spec, {}, prepared));
    result.seed = task.lease.seed;
    return result;
  };

  WorkerOptions worker_options;
  worker_options.owner = options.owner;
  worker_options.max_idle_seconds = options.max_idle;
  worker_options.max_tasks = options.max_tasks;
  worker_options.stop = &stop_requested;
  const std::string name = options.owner.empty() ? worker_name() : options.owner;
  worker_options.on_result = [&](const ClaimedTask& task, const EvaluationResult& r, double seconds, bool refused) {
    if (options.quiet) return;
    std::cout << fmt::format("{}: {} stage {}: {} metric {} lr {} in {:.2f} s{}{}\n", name,
                             task.lease.baseline.empty() ? fmt::format("candidate {}", task.candidate.index)
                                                         : fmt::format("baseline {}", task.lease.baseline),
                             task.lease.seed ? fmt::format("{} seed {}", task.lease.stage, task.lease.seed)
                                             : std::to_string(task.lease.stage), search::name(r.status), r.metric ? fmt::format("{:.4f}", *r.metric) : "-",
                             r.lr ? fmt::format("{:g}", *r.lr) : "-", seconds, r.detail.empty() ? "" : " (" + r.detail + ")",
                             refused ? fmt::format("; refused: the lease (attempt {}) is no longer this worker's, "
                                                   "another attempt evaluates the candidate",
                                                   task.lease.attempt)
                                     : "")
              << std::flush;
  };
  if (!options.quiet && synthetic)
    std::cout << fmt::format("{}: working on search '{}' of {} (synthetic child: {} s per evaluation)\n", name, search.name,
                             storage->location(), config.child.synthetic)
              << std::flush;
  else if (!options.quiet)
    std::cout << fmt::format("{}: working on search '{}' of {} ({} train / {} validation examples, {} thread(s), "
                             "device {})\n",
                             name, search.name, storage->location(), split_for(1).train.size(), split_for(1).val.size(),
                             config.threads_per_worker, config.child.device)
              << std::flush;
  auto open = [&] { return open_storage(path, OpenMode::Open); };
  // Stopped by SIGINT or SIGTERM: 130, as every NOS command stopped by a signal (its help says so).
  constexpr int kStopped = 130;
  WorkerSummary summary = run_worker(*storage, open, search.id, evaluate, worker_options, kStopped);
  if (!options.quiet)
    std::cout << fmt::format("{}: {} evaluated, {} refused (lease lost), {} failed{}\n", name, summary.evaluated,
                             summary.stale, summary.failed, summary.stopped ? "; stopped" : "");
  return summary.stopped ? kStopped : 0;
}

}  // namespace nos::search::cli
