// nos-bench train: the same child network and data trained with LibTorch's Adam, RMSprop and SGD
// with momentum, with PowerSign and AddSign, and with any rules given, over several seeds and the
// same budget (epochs, batch size, data) for all. Reports mean ± std of the final validation
// metric (accuracy, or the task's negated loss by its name: runtime/objective.h) and the time per
// run, writes the results as JSON and the per-epoch metric curves as a data file and a PNG (plot.h).
//
// Learning rates: each optimizer has a fixed default, chosen once on this benchmark (mlp, Fashion-
// MNIST; docs/benchmarks.md). With --lr-sweep each optimizer instead tries its default times
// 1/3, 1 and 3 on the first seed (runtime::sweep_lr: the best final validation accuracy wins), and
// the other seeds run at the winner; the first seed's run at the winner is reused, so every
// optimizer has `seeds` runs at its chosen rate. --lr-grid G gives every optimizer the same grid
// instead (rates, or a named grid as in nos-search: fine, half-decades; lr_protocol.h), swept so. Every run is one evaluation (runtime/evaluate.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/bench_rules.h"
#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/plot.h"
#include "controller/search/lr_protocol.h"
#include "runtime/data/dataset.h"
#include "runtime/evaluate.h"
#include "runtime/objective.h"
#include "support/atomic_file.h"
#include "tools/options.h"
#include "tools/task_option.h"
#include "runtime/json_text.h"

namespace nos::bench {
namespace {

using runtime::EvaluateResult;
using runtime::EvaluateSpec;
using runtime::RunResult;

// What a contender is: a rule, or one of LibTorch's optimizers.
struct OptimizerSpec {
  std::optional<compiler::CompiledRule> rule;
  std::string torch_optimizer;
  double momentum = 0;
};

struct TrainOptions {
  EvaluateSpec child;  // model, epochs, batch size, threads, device, data, subset; candidate, lr, seed per run
  int seeds = 3;
  std::vector<std::string> optimizers{"adam", "rmsprop", "sgd-momentum", "powersign", "addsign"};
  tool::RuleOptions rules;         // --rule, -e, --tokens, --rule-name: extra rules
  double rule_lr = 0.01;           // their learning rate
  bool lr_sweep = false;
  std::string lr_grid;             // --lr-grid: one grid for every optimizer (implies the sweep)
  std::string out = "bench-train";
  std::string task_file;           // --task: the child's task from a file
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
    spec.rule = compiler::compile_text("exp(sign(g) * sign(m)) * g", {.check_non_finite = false});
    return {name, spec, 0.03};
  }
  if (name == "addsign") {
    spec.rule = compiler::compile_text("(1 + sign(g) * sign(m)) * g", {.check_non_finite = false});
    return {name, spec, 0.03};
  }
  throw UsageError(fmt::format("--optimizers: unknown optimizer '{}' (adam, rmsprop, sgd-momentum, powersign, addsign)", name));
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
  std::vector<EvaluateResult> runs;         // one evaluation per seed, at the chosen rate
  std::vector<EvaluateSpec> specs;          // what each of them was
};

const RunResult& best_run(const EvaluateResult& r) { return r.runs[r.best]; }

// The metric as plotted and tabled: accuracy in percent, a negated loss as it is.
double shown(runtime::Objective objective, double metric) {
  return runtime::metric_is_accuracy(objective) ? 100 * metric : metric;
}

Series metric_curve(const ContenderResult& r, runtime::Objective objective) {
  Series s;
  s.title = fmt::format("{} (lr {:g})", r.contender.name, r.contender.lr);
  // Epochs every run reached: a diverged run stops early and must not bend the mean of the others.
  std::size_t epochs = SIZE_MAX;
  for (const EvaluateResult& run : r.runs) epochs = run.runs.empty() ? 0 : std::min(epochs, best_run(run).history.size());
  if (r.runs.empty()) epochs = 0;
  for (std::size_t e = 0; e < epochs; ++e) {
    std::vector<double> acc;
    for (const EvaluateResult& run : r.runs) acc.push_back(shown(objective, best_run(run).history[e].val_acc));
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
  int failed = 0;
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    acc.push_back(r.runs[i].metric);
    seconds.push_back(r.runs[i].timings.total);
    diverged += r.runs[i].status == runtime::Status::Diverged;
    failed += r.runs[i].status == runtime::Status::CompileFailed;
    runs.push_back(runtime::to_json(r.runs[i], r.specs[i]));
  }
  nlohmann::json sweep = nlohmann::json::array();
  for (const RunResult& run : r.sweep)
    sweep.push_back({{"lr", run.lr}, {"val_acc", run.val_acc}, {"status", runtime::name(run.status)}});
  Summary a = summarize(acc), t = summarize(seconds);
  nlohmann::json j = {{"name", r.contender.name}, {"lr", r.contender.lr},       {"lr_grid", r.grid},
                      {"sweep", sweep},           {"val_acc_mean", a.mean},     {"val_acc_std", a.std},
                      {"seconds_mean", t.mean},   {"seconds_std", t.std},       {"diverged", diverged},
                      {"compile_failed", failed}, {"runs", runs}};
  if (r.contender.spec.rule)
    j["rule"] = {{"name", r.contender.spec.rule->name},
                 {"text", r.contender.spec.rule->text},
                 {"canonical_text", r.contender.spec.rule->canonical_text},
                 {"hash", r.contender.spec.rule->hash_hex()}};
  else
    j["torch"] = r.contender.spec.torch_optimizer;
  if (r.contender.spec.torch_optimizer == "sgd") j["momentum"] = r.contender.spec.momentum;
  return j;
}

// The contender as an evaluation at `lrs` with `seed`; its compiled rule goes in through Prepared.
EvaluateSpec spec_for(const TrainOptions& o, const Contender& c, std::vector<double> lrs, std::uint64_t seed) {
  EvaluateSpec spec = o.child;
  if (c.spec.rule) spec.rule = compiler::RuleSource::text(c.spec.rule->text);
  spec.torch_optimizer = c.spec.torch_optimizer;
  spec.momentum = c.spec.momentum;
  spec.lrs = std::move(lrs);
  spec.seed = seed;
  return spec;
}

int run_train(TrainOptions o) {
  std::vector<Contender> contenders;
  for (const std::string& name : o.optimizers) contenders.push_back(builtin(name));
  for (BenchRule& rule : given_rules(o.rules.sources())) {
    OptimizerSpec spec;
    spec.rule = std::move(rule.rule);
    contenders.push_back({rule.name, spec, o.rule_lr});
  }
  if (contenders.empty()) throw UsageError("nothing to train: give --optimizers or --rule");
  std::vector<double> shared_grid;  // the same rates for everyone, as nos-search's protocol
  if (!o.lr_grid.empty()) {
    try {
      shared_grid = search::parse_lr_grid(o.lr_grid);
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--lr-grid: {}", e.what()));
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && !std::filesystem::is_directory(o.out, ec))
    throw std::invalid_argument(fmt::format("--out: '{}' exists and is not a directory", o.out));
  std::filesystem::create_directories(o.out);

  runtime::Dataset data = runtime::load_dataset(o.child.data);
  // Resolved once here, as every evaluation resolves it: what the metric is, before any training.
  const runtime::Objective objective = runtime::resolve_objective(o.child.objective, data, o.child.model.name);
  const bool accuracy = runtime::metric_is_accuracy(objective);
  fmt::print(stderr, "nos-bench train: {} ({} examples), model {}, {} epochs, {} seeds, {} optimizers\n", o.child.data,
             data.size(), o.child.model.name, o.child.epochs, o.seeds, contenders.size());
  if (!accuracy)
    fmt::print(stderr, "objective {}: metric {} (higher is better)\n", runtime::name(objective),
               runtime::metric_label(objective));

  auto progress = [objective](const std::string& what) {
    return [what, objective](const runtime::EpochRecord& e) {
      fmt::print(stderr, "  {} epoch {}: {} {}, {:g} s\n", what, e.epoch, runtime::metric_caption(objective),
                 runtime::metric_text(objective, e.val_acc), e.seconds);
    };
  };
  std::vector<ContenderResult> results;
  for (Contender& c : contenders) {
    ContenderResult r{c, {c.lr}, {}, {}, {}};
    runtime::Prepared prepared{c.spec.rule ? &*c.spec.rule : nullptr, &data};
    runtime::Observer observer{[&](double lr) { fmt::print(stderr, " lr {:g}\n", lr); }, progress(c.name)};
    if (o.lr_sweep || !shared_grid.empty()) {
      r.grid = shared_grid.empty() ? std::vector<double>{c.lr / 3, c.lr, c.lr * 3} : shared_grid;
      fmt::print(stderr, "{}: sweeping lr on seed 0\n", c.name);
      EvaluateSpec spec = spec_for(o, c, r.grid, 0);
      EvaluateResult sweep = runtime::evaluate(spec, observer, prepared);
      r.sweep = sweep.runs;
      if (!sweep.runs.empty()) r.contender.lr = sweep.lr;
      // The first seed's run at the winner, as if it had been evaluated alone.
      if (!sweep.runs.empty()) {
        RunResult best = best_run(sweep);
        sweep.runs = {best};
        sweep.best = 0;
      }
      spec.lrs = {r.contender.lr};
      r.runs.push_back(std::move(sweep));
      r.specs.push_back(std::move(spec));
    }
    for (int s = static_cast<int>(r.runs.size()); s < o.seeds; ++s) {
      fmt::print(stderr, "{}: seed {}, lr {:g}\n", c.name, s, r.contender.lr);
      EvaluateSpec spec = spec_for(o, c, {r.contender.lr}, static_cast<std::uint64_t>(s));
      r.runs.push_back(runtime::evaluate(spec, {{}, progress(c.name)}, prepared));
      r.specs.push_back(std::move(spec));
    }
    results.push_back(std::move(r));
  }

  // Results: the table on stdout, then the files.
  // Accuracy in percent as before; a negated loss under its own name, higher is better.
  const std::string caption = runtime::metric_caption(objective);
  fmt::print("\n{:<14} {:<9} {:<20} {:<18} {}\n", "optimizer", "lr", fmt::format("{} (mean ± std)", caption),
             "s/run (mean ± std)", "diverged");
  nlohmann::json optimizers = nlohmann::json::array();
  const std::string metric_title = accuracy ? "accuracy" : runtime::metric_label(objective);
  Plot plot{fmt::format("Validation {}, {} on {} (mean ± std over {} seeds)", metric_title, o.child.model.name,
                        o.child.data, o.seeds),
            "epoch",
            accuracy ? std::string("validation accuracy (%)")
                     : fmt::format("validation {} (higher is better)", metric_title),
            {}};
  for (const ContenderResult& r : results) {
    nlohmann::json j = to_json(r);
    const double mean = shown(objective, j["val_acc_mean"].get<double>()), std = shown(objective, j["val_acc_std"].get<double>());
    const std::string value = accuracy ? fmt::format("{:6.2f} ± {:5.2f} %", mean, std) : fmt::format("{:.5g} ± {:.2g}", mean, std);
    fmt::print("{:<14} {:<9g} {:<21} {:7.2f} ± {:6.2f}    {}/{}\n", r.contender.name, r.contender.lr, value,
               j["seconds_mean"].get<double>(), j["seconds_std"].get<double>(), j["diverged"].get<int>(), r.runs.size());
    optimizers.push_back(std::move(j));
    plot.series.push_back(metric_curve(r, objective));
  }
  for (const Contender& c : contenders)
    if (c.spec.rule) fmt::print("  {}: {}\n", c.name, c.spec.rule->text);

  nlohmann::json report = {{"optimizers", optimizers},
                           {"config",
                            {{"seeds", o.seeds},
                             {"lr_sweep", o.lr_sweep || !shared_grid.empty()},
                             {"lr_grid", shared_grid.empty() ? nlohmann::json(nullptr) : nlohmann::json(shared_grid)},
                             {"data_source", data.source},
                             {"child", runtime::to_json(spec_for(o, contenders.front(), {contenders.front().lr}, 0))}}}};
  // val_acc_mean/_std hold the metric whatever it is; a task other than classification says which.
  if (objective != runtime::Objective::Classification) {
    report["config"]["objective"] = runtime::name(objective);
    report["config"]["metric"] = runtime::metric_label(objective);
  }
  std::filesystem::path json_path = std::filesystem::path(o.out) / "train.json";
  support::write_file_atomically(json_path, json_text(report, 2) + "\n", "--out");

  PlotFiles files = plot_curves(plot, o.out, "accuracy");
  fmt::print("\nwrote {}, {}, {}\n", json_path.string(), files.data.string(), files.script.string());
  if (files.problem.empty()) fmt::print("plot: {}\n", files.image.string());
  else fmt::print("no plot: {}\n", files.problem);
  return kOk;
}

}  // namespace

void add_train_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TrainOptions>();
  o->child.epochs = 3;
  CLI::App* cmd = app.add_subcommand("train", "train one model with LibTorch's optimizers and NOS rules over several "
                                              "seeds; report accuracy and time, plot the curves");
  tool::add_task_option(*cmd, o->task_file);
  cmd->add_option("--model", o->child.model.name, "mlp, convnet, resnet, textrnn, textcnn or a TorchScript file (docs/tasks.md)")
      ->check(nos::tool::model_validator())
      ->capture_default_str();
  cmd->add_option("--hidden", o->child.model.hidden, "mlp hidden layer widths, comma-separated")
      ->delimiter(',')
      ->check(tool::positive_validator())
      ->capture_default_str();
  cmd->add_option("--epochs", o->child.epochs, "epochs per run")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "runs per optimizer (seeds 0..K-1: split, initial weights, data order)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--optimizers", o->optimizers, "adam, rmsprop, sgd-momentum, powersign, addsign; comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"adam", "rmsprop", "sgd-momentum", "powersign", "addsign"}))
      ->capture_default_str();
  tool::add_rule_options(*cmd, o->rules, {.repeatable = true, .what = "an extra rule to train"});
  cmd->add_option("--rule-lr", o->rule_lr, "learning rate of the --rule rules")
      ->check(tool::learning_rate_validator())
      ->capture_default_str();
  cmd->add_flag("--lr-sweep", o->lr_sweep, "try each optimizer's learning rate times 1/3, 1, 3 on the first seed first");
  cmd->add_option("--lr-grid", o->lr_grid,
                  "instead, every optimizer tries these rates on the first seed: comma-separated, or a named grid as in "
                  "nos-search (default, fine, half-decades)");
  cmd->add_option("--data", o->child.data, "fashion-mnist, an MNIST-layout directory or prefix, or a .csv file (as nos-train)")
      ->capture_default_str();
  cmd->add_option("--train-subset", o->child.train_subset, "train on only this many examples (0: all)")
      ->check(tool::non_negative_validator())
      ->capture_default_str();
  cmd->add_option("--batch-size", o->child.batch_size, "examples per step")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  tool::add_threads_option(*cmd, o->child.threads, "CPU threads for LibTorch and the rule kernels (0: LibTorch's default)");
  cmd->add_option("--device", o->child.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--out", o->out, "directory for train.json, accuracy.dat, accuracy.gp and accuracy.png")
      ->capture_default_str();
  const runtime::TaskSpec defaults = o->child.task();
  cmd->callback([&run, o, cmd, defaults] {
    run = [o, cmd, defaults] {
      tool::apply_task_file(*cmd, o->task_file, defaults, o->child.task());
      return run_train(*o);
    };
  });
}

}  // namespace nos::bench
