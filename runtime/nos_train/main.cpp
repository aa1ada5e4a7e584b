// nos-train: trains a child network with an update rule (or a LibTorch optimizer, for comparison)
// and reports its validation accuracy: the reward of the search, and a tool to try a rule by hand.
//
//   nos-train --rule "exp(sign_g * sign_m) * g" --model mlp --data fashion-mnist --epochs 2 --lr 0.05
//
// Exit status: 0 when the run finished (a diverged run is a result, not a failure), 1 for an
// invalid rule or input (data files, device), 2 for a command-line mistake, 3 for internal errors.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dsl/diagnostic.h"
#include "runtime/data/dataset.h"
#include "compiler/tool_main.h"
#include "runtime/data/idx.h"
#include "runtime/models.h"
#include "runtime/report.h"
#include "runtime/sweep.h"

namespace {

using namespace nos::runtime;

using nos::tool::kInvalid;
using nos::tool::kOk;
using nos::tool::kUsage;
using nos::tool::UsageError;

struct Options {
  std::string rule, rule_name, optimizer, data = "fashion-mnist", json;
  double momentum = 0;
  double lr = 0;
  std::vector<double> lr_sweep;
  SplitOptions split;
  TrainConfig config;
};

void add_options(CLI::App& app, Options& o) {
  auto* rule = app.add_option("--rule", o.rule,
                              "the update rule: a rule file (an existing path, or a name ending in .dsl), "
                              "else the rule's text, e.g. 'exp(sign_g * sign_m) * g'");
  app.add_option("--rule-name", o.rule_name, "which rule of a file holding several")->needs(rule);
  auto* optimizer = app.add_option("--optimizer", o.optimizer,
                                   "train with LibTorch's own optimizer instead of a rule (for comparison)")
                        ->check(CLI::IsMember({"adam", "rmsprop", "sgd"}));
  rule->excludes(optimizer);
  app.add_option("--momentum", o.momentum, "momentum of --optimizer sgd")->needs(optimizer)->check(CLI::Range(0.0, 1.0));
  app.add_option("--model", o.config.model.name, "the child network: mlp or convnet")
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  app.add_option("--hidden", o.config.model.hidden, "mlp hidden layer widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--data", o.data,
                 "fashion-mnist; a directory with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]; "
                 "a prefix P of P-images-idx3-ubyte[.gz] and P-labels-idx1-ubyte[.gz]; or a .csv file "
                 "(numeric features, integer label last, optional header)")
      ->capture_default_str();
  app.add_option("--epochs", o.config.epochs, "training epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  auto* lr = app.add_option("--lr", o.lr, "learning rate")->check(CLI::NonNegativeNumber);
  auto* sweep = app.add_option("--lr-sweep", o.lr_sweep,
                               "learning rates to try, comma-separated (e.g. 1e-4,1e-3,1e-2); "
                               "the best final validation accuracy wins")
                    ->delimiter(',')
                    ->check(CLI::NonNegativeNumber);
  lr->excludes(sweep);
  app.add_option("--device", o.config.device, "cpu, cuda or cuda:N")
      ->check([](const std::string& d) {
        bool ok = d == "cpu" || d == "cuda" ||
                  (d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.find_first_not_of("0123456789", 5) == std::string::npos);
        return ok ? std::string() : "unknown device '" + d + "' (expected cpu, cuda or cuda:N)";
      })
      ->capture_default_str();
  app.add_option("--seed", o.config.seed, "seed of the split, the initial weights, the data order and the rule's noise")
      ->capture_default_str();
  app.add_option("--json", o.json, "write the results as JSON to this file");
  app.add_option("--batch-size", o.config.batch_size, "examples per step")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--train-subset", o.split.train_subset, "train on only this many examples (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--val-fraction", o.split.val_fraction, "part of the data held out for validation")
      ->check([](const std::string& text) {
        double f = std::strtod(text.c_str(), nullptr);
        return f > 0 && f < 1 ? std::string() : "must lie strictly between 0 and 1, got " + text;
      })
      ->capture_default_str();
  app.add_option("--threads", o.config.threads, "CPU threads for LibTorch and the rule's kernel (0: LibTorch's default)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--time-budget", o.config.time_budget,
                 "wall-clock seconds of training (data loading excluded), shared equally by the runs of a "
                 "sweep; a run out of time stops early with stop_reason time_budget (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--backend", o.config.backend,
                 "kernel backend of the rule: auto (cpu if built with LLVM, else interp; cuda on GPUs), interp, cpu, cuda")
      ->check(CLI::IsMember({"auto", "interp", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--last-k", o.config.last_k, "epochs the mean/max validation accuracy are taken over")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

void print_epoch(const EpochRecord& e, int epochs) {
  std::printf("epoch %3d/%d  train loss %9.4f  val loss %9.4f  val acc %6.2f%%  %6.2f s%s\n", e.epoch, epochs,
              e.train_loss, e.val_loss, 100 * e.val_acc, e.seconds, e.complete ? "" : "  (stopped early)");
  std::fflush(stdout);
}

int run(Options& o) {
  if (o.rule.empty() && o.optimizer.empty()) throw UsageError("give the rule to train with: --rule FILE|EXPR (or --optimizer)");
  std::vector<double> lrs = o.lr_sweep;
  if (lrs.empty()) {
    if (o.lr <= 0) throw UsageError("give a positive learning rate: --lr X or --lr-sweep X,Y,...");
    lrs = {o.lr};
  }
  // Fail before training, not after, when the report cannot be written.
  std::ofstream json_out;
  if (!o.json.empty()) {
    json_out.open(o.json);
    if (!json_out) throw std::invalid_argument("--json: cannot write '" + o.json + "'");
  }

  OptimizerSpec optimizer;
  if (!o.rule.empty()) {
    try {
      optimizer.rule = load_rule(o.rule, o.rule_name);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  } else {
    optimizer.torch_optimizer = o.optimizer;
    optimizer.momentum = o.momentum;
  }
  o.split.seed = o.config.seed;
  auto start = std::chrono::steady_clock::now();
  Dataset data = load_dataset(o.data);
  Split split = split_dataset(data, o.split);
  std::printf("%s on %s (%lld train, %lld validation, %lld classes), model %s\n", optimizer.describe().c_str(),
              o.data.c_str(), static_cast<long long>(split.train.size()), static_cast<long long>(split.val.size()),
              static_cast<long long>(data.num_classes), o.config.model.name.c_str());

  auto on_run = [&](double lr) {
    if (lrs.size() > 1) std::printf("lr %g\n", lr);
  };
  SweepResult sweep = sweep_lr(split, optimizer, o.config, lrs, on_run,
                               [&](const EpochRecord& e) { print_epoch(e, o.config.epochs); });
  const RunResult& best = sweep.runs[sweep.best];
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (lrs.size() > 1)
    for (const RunResult& r : sweep.runs)
      std::printf("  lr %-10g %-8s val acc %6.2f%%\n", r.lr, r.status.c_str(), 100 * r.val_acc);
  std::printf("%s: val acc %.2f%% (mean of last %d epochs %.2f%%, max %.2f%%), lr %g, backend %s, %.1f s\n",
              best.status.c_str(), 100 * best.val_acc, best.last_k, 100 * best.val_acc_mean_last_k,
              100 * best.val_acc_max_last_k, best.lr, best.backend.c_str(), wall);
  if (!best.message.empty()) std::printf("%s\n", best.message.c_str());

  if (json_out.is_open()) {
    nlohmann::json report = to_json(best);
    report.update(to_json(optimizer));
    report["wall_seconds"] = wall;
    nlohmann::json runs = nlohmann::json::array();
    for (const RunResult& r : sweep.runs) runs.push_back(to_json(r));
    report["sweep"] = runs;
    report["model"] = {{"name", o.config.model.name}, {"hidden", o.config.model.hidden}};
    report["data"] = {{"spec", o.data},
                      {"source", data.source},
                      {"train_size", split.train.size()},
                      {"val_size", split.val.size()},
                      {"shape", data.shape},
                      {"classes", data.num_classes}};
    report["config"] = {{"epochs", o.config.epochs},         {"batch_size", o.config.batch_size},
                        {"seed", o.config.seed},             {"device", o.config.device},
                        {"threads", o.config.threads},       {"time_budget", o.config.time_budget},
                        {"backend_option", o.config.backend}, {"train_subset", o.split.train_subset},
                        {"val_fraction", o.split.val_fraction}};
    json_out << report.dump(2) << '\n';
    if (!json_out.flush()) throw std::invalid_argument("--json: failed writing '" + o.json + "'");
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nos-train: train a child network with an optimizer update rule and report its validation accuracy."};
  app.name("nos-train");
  app.footer("Exit status: 0 finished (also when the run diverged: see status), 1 invalid rule or input, "
             "2 usage error, 3 internal error.");
  Options options;
  add_options(app, options);
  return nos::tool::run_main(app, argc, argv, [&] { return run(options); });
}
