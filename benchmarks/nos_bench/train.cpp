// nos-bench train: the same child network and data trained with LibTorch's Adam, RMSprop and SGD
// with momentum, with PowerSign and AddSign, and with any rules given, over several seeds and the
// same budget (epochs, batch size, data) for all. Reports mean ± std of the final validation
// accuracy and the time per run, writes the results as JSON and the per-epoch accuracy curves as a
// data file and a PNG (plot.h).
//
// Learning rates: each optimizer has a fixed default, chosen once on this benchmark (mlp, Fashion-
// MNIST; docs/benchmarks.md). With --lr-sweep each optimizer instead tries its default times
// 1/3, 1 and 3 on the first seed (runtime::sweep_lr: the best final validation accuracy wins), and
// the other seeds run at the winner; the first seed's run at the winner is reused, so every
// optimizer has `seeds` runs at its chosen rate.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <cstdint>
#include <algorithm>

#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/plot.h"
#include "runtime/data/dataset.h"
#include "runtime/report.h"
#include "runtime/sweep.h"
#include "runtime/trainer.h"

namespace nos::bench {
namespace {

using runtime::OptimizerSpec;
using runtime::RunResult;

struct TrainOptions {
  runtime::TrainConfig config;  // model, epochs, batch size, threads, device; lr and seed per run
  int seeds = 3;
  std::vector<std::string> optimizers{"adam", "rmsprop", "sgd-momentum", "powersign", "addsign"};
  std::vector<std::string> rules;  // --rule: extra rules (text or file)
  double rule_lr = 0.01;           // their learning rate
  bool lr_sweep = false;
  std::string data = "fashion-mnist";
  runtime::SplitOptions split;
  std::string out = "bench-train";
};

struct Contender {
  std::string name;
  OptimizerSpec spec;
  double lr;  // the default, or the sweep's winner
};

// Default learning rates: the winners of `nos-bench train --lr-sweep --epochs 5 --seeds 3` on the
// full Fashion-MNIST training split with mlp (docs/benchmarks.md), each picked from its earlier
// default times 1/3, 1 and 3; those earlier defaults came from a five-point sweep per optimizer
// with nos-train (1e-4 .. 1e-2 for Adam and RMSprop, 3e-3 .. 0.3 for the SGD-like rules).
Contender builtin(const std::string& name) {
  OptimizerSpec spec;
  if (name == "adam") {
    spec.torch_optimizer = name;
    return {name, spec, 1e-3};
  }
  if (name == "rmsprop") {
    spec.torch_optimizer = name;
    return {name, spec, 3e-4};
  }
  if (name == "sgd-momentum") {
    spec.torch_optimizer = "sgd";
    spec.momentum = 0.9;
    return {name, spec, 0.01};
  }
  if (name == "powersign") {
    spec.rule = runtime::compile_rule_text("exp(sign(g) * sign(m)) * g");
    return {name, spec, 0.03};
  }
  if (name == "addsign") {
    spec.rule = runtime::compile_rule_text("(1 + sign(g) * sign(m)) * g");
    return {name, spec, 0.03};
  }
  throw UsageError("--optimizers: unknown optimizer '" + name + "' (adam, rmsprop, sgd-momentum, powersign, addsign)");
}

struct Summary {
  double mean = 0, std = 0;
};

// Sample standard deviation (n - 1); 0 for a single value.
Summary summarize(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(values.size());
  if (values.size() > 1) {
    double sq = 0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(sq / static_cast<double>(values.size() - 1));
  }
  return s;
}

struct ContenderResult {
  Contender contender;
  std::vector<double> grid;                 // learning rates tried (one when not sweeping)
  std::vector<RunResult> sweep;             // the first seed's run at each rate of the grid
  std::vector<RunResult> runs;              // one per seed, at the chosen rate
  std::vector<std::uint64_t> seeds;
};

Series accuracy_curve(const ContenderResult& r) {
  Series s;
  s.title = r.contender.name + " (lr " + [&] {
    std::ostringstream text;
    text << r.contender.lr;
    return text.str();
  }() + ")";
  // Epochs every run reached: a diverged run stops early and must not bend the mean of the others.
  std::size_t epochs = SIZE_MAX;
  for (const RunResult& run : r.runs) epochs = std::min(epochs, run.history.size());
  for (std::size_t e = 0; e < epochs; ++e) {
    std::vector<double> acc;
    for (const RunResult& run : r.runs) acc.push_back(100 * run.history[e].val_acc);
    Summary sum = summarize(acc);
    s.x.push_back(static_cast<double>(e + 1));
    s.mean.push_back(sum.mean);
    s.std.push_back(sum.std);
  }
  return s;
}

nlohmann::json to_json(const ContenderResult& r) {
  std::vector<double> acc, seconds;
  int diverged = 0;
  nlohmann::json runs = nlohmann::json::array();
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    acc.push_back(r.runs[i].val_acc);
    seconds.push_back(r.runs[i].seconds);
    diverged += r.runs[i].status == "diverged";
    nlohmann::json run = runtime::to_json(r.runs[i]);
    run["seed"] = r.seeds[i];
    runs.push_back(std::move(run));
  }
  nlohmann::json sweep = nlohmann::json::array();
  for (const RunResult& run : r.sweep)
    sweep.push_back({{"lr", run.lr}, {"val_acc", run.val_acc}, {"status", run.status}});
  Summary a = summarize(acc), t = summarize(seconds);
  nlohmann::json j = {{"name", r.contender.name}, {"lr", r.contender.lr},       {"lr_grid", r.grid},
                      {"sweep", sweep},           {"val_acc_mean", a.mean},     {"val_acc_std", a.std},
                      {"seconds_mean", t.mean},   {"seconds_std", t.std},       {"diverged", diverged},
                      {"runs", runs}};
  j.update(runtime::to_json(r.contender.spec));
  return j;
}

int run_train(TrainOptions o) {
  std::vector<Contender> contenders;
  for (const std::string& name : o.optimizers) contenders.push_back(builtin(name));
  for (std::size_t i = 0; i < o.rules.size(); ++i) {
    OptimizerSpec spec;
    spec.rule = runtime::load_rule(o.rules[i]);
    contenders.push_back({"rule" + std::to_string(i + 1), spec, o.rule_lr});
  }
  if (contenders.empty()) throw UsageError("nothing to train: give --optimizers or --rule");
  std::filesystem::create_directories(o.out);

  runtime::Dataset data = runtime::load_dataset(o.data);
  std::cerr << "nos-bench train: " << o.data << " (" << data.size() << " examples), model " << o.config.model.name
            << ", " << o.config.epochs << " epochs, " << o.seeds << " seeds, " << contenders.size() << " optimizers\n";
  // One split per seed, shared by every optimizer: the seed decides split, initial weights and order.
  std::vector<runtime::Split> splits;
  for (int s = 0; s < o.seeds; ++s) {
    runtime::SplitOptions split = o.split;
    split.seed = static_cast<std::uint64_t>(s);
    splits.push_back(runtime::split_dataset(data, split));
  }

  auto progress = [](const std::string& what) {
    return [what](const runtime::EpochRecord& e) {
      std::cerr << "  " << what << " epoch " << e.epoch << ": val acc " << 100 * e.val_acc << "%, " << e.seconds << " s\n";
    };
  };
  std::vector<ContenderResult> results;
  for (Contender& c : contenders) {
    ContenderResult r{c, {c.lr}, {}, {}, {}};
    runtime::TrainConfig config = o.config;
    config.seed = 0;
    if (o.lr_sweep) {
      r.grid = {c.lr / 3, c.lr, c.lr * 3};
      std::cerr << c.name << ": sweeping lr on seed 0\n";
      runtime::SweepResult sweep = runtime::sweep_lr(
          splits[0], c.spec, config, r.grid, [&](double lr) { std::cerr << " lr " << lr << '\n'; },
          progress(c.name));
      r.sweep = sweep.runs;
      r.contender.lr = sweep.runs[sweep.best].lr;
      r.runs.push_back(sweep.runs[sweep.best]);
      r.seeds.push_back(0);
    }
    for (int s = static_cast<int>(r.runs.size()); s < o.seeds; ++s) {
      config.seed = static_cast<std::uint64_t>(s);
      config.lr = r.contender.lr;
      std::cerr << c.name << ": seed " << s << ", lr " << config.lr << '\n';
      r.runs.push_back(runtime::train(splits[s], c.spec, config, progress(c.name)));
      r.seeds.push_back(config.seed);
    }
    results.push_back(std::move(r));
  }

  // Results: the table on stdout, then the files.
  std::printf("\n%-14s %-9s %-20s %-18s %s\n", "optimizer", "lr", "val acc (mean ± std)", "s/run (mean ± std)", "diverged");
  nlohmann::json optimizers = nlohmann::json::array();
  Plot plot{"Validation accuracy, " + o.config.model.name + " on " + o.data + " (mean ± std over " +
                std::to_string(o.seeds) + " seeds)",
            "epoch", "validation accuracy (%)", {}};
  for (const ContenderResult& r : results) {
    nlohmann::json j = to_json(r);
    std::printf("%-14s %-9g %6.2f ± %5.2f %%      %7.2f ± %6.2f    %d/%zu\n", r.contender.name.c_str(), r.contender.lr,
                100 * j["val_acc_mean"].get<double>(), 100 * j["val_acc_std"].get<double>(),
                j["seconds_mean"].get<double>(), j["seconds_std"].get<double>(), j["diverged"].get<int>(), r.runs.size());
    optimizers.push_back(std::move(j));
    plot.series.push_back(accuracy_curve(r));
  }
  for (const Contender& c : contenders)
    if (c.spec.rule) std::printf("  %s: %s\n", c.name.c_str(), c.spec.rule->text.c_str());

  nlohmann::json report = {
      {"optimizers", optimizers},
      {"config",
       {{"model", o.config.model.name},
        {"hidden", o.config.model.hidden},
        {"epochs", o.config.epochs},
        {"batch_size", o.config.batch_size},
        {"seeds", o.seeds},
        {"threads", o.config.threads},
        {"device", o.config.device},
        {"lr_sweep", o.lr_sweep},
        {"data", o.data},
        {"data_source", data.source},
        {"train_size", splits.front().train.size()},
        {"val_size", splits.front().val.size()},
        {"train_subset", o.split.train_subset},
        {"val_fraction", o.split.val_fraction}}}};
  std::filesystem::path json_path = std::filesystem::path(o.out) / "train.json";
  std::ofstream json(json_path);
  json << report.dump(2) << '\n';
  if (!json.flush()) throw std::runtime_error("failed writing " + json_path.string());

  PlotFiles files = plot_curves(plot, o.out, "accuracy");
  std::printf("\nwrote %s, %s, %s\n", json_path.c_str(), files.data.c_str(), files.script.c_str());
  if (files.problem.empty()) std::printf("plot: %s\n", files.image.c_str());
  else std::printf("no plot: %s\n", files.problem.c_str());
  return kOk;
}

}  // namespace

void add_train_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TrainOptions>();
  o->config.epochs = 3;
  CLI::App* cmd = app.add_subcommand("train", "train one model with LibTorch's optimizers and NOS rules over several "
                                              "seeds; report accuracy and time, plot the curves");
  cmd->add_option("--model", o->config.model.name, "mlp or convnet")
      ->check(CLI::IsMember({"mlp", "convnet"}))  // runtime/models.h's names; that header pulls in torch
      ->capture_default_str();
  cmd->add_option("--hidden", o->config.model.hidden, "mlp hidden layer widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--epochs", o->config.epochs, "epochs per run")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "runs per optimizer (seeds 0..K-1: split, initial weights, data order)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--optimizers", o->optimizers, "adam, rmsprop, sgd-momentum, powersign, addsign; comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"adam", "rmsprop", "sgd-momentum", "powersign", "addsign"}))
      ->capture_default_str();
  cmd->add_option("--rule", o->rules, "an extra rule to train: its text or a rule file (repeatable)");
  cmd->add_option("--rule-lr", o->rule_lr, "learning rate of the --rule rules")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--lr-sweep", o->lr_sweep, "try each optimizer's learning rate times 1/3, 1, 3 on the first seed first");
  cmd->add_option("--data", o->data, "fashion-mnist, an MNIST-layout directory or prefix, or a .csv file (as nos-train)")
      ->capture_default_str();
  cmd->add_option("--train-subset", o->split.train_subset, "train on only this many examples (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--batch-size", o->config.batch_size, "examples per step")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--threads", o->config.threads, "CPU threads for LibTorch and the rule kernels (0: LibTorch's default)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--device", o->config.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--out", o->out, "directory for train.json, accuracy.dat, accuracy.gp and accuracy.png")
      ->capture_default_str();
  cmd->callback([&run, o] { run = [o] { return run_train(*o); }; });
}

}  // namespace nos::bench
