// nos-train: trains a child network with an update rule (or a LibTorch optimizer, for comparison)
// and reports its validation accuracy: the reward of the search, and a tool to try a rule by hand.
// One evaluation of runtime/evaluate.h, with its options on the command line.
//
//   nos-train --rule "exp(sign_g * sign_m) * g" --model mlp --data fashion-mnist --epochs 2 --lr 0.05
//   nos-train --rule adam --task examples/tasks/fashion-resnet.json --epochs 1 --lr 0.001
//
// Exit status: 0 when the evaluation finished (a diverged run, or a kernel that cannot be built, is
// a result: see status), 1 for an invalid rule or input (data files, device, model size), 2 for a
// command-line mistake, 3 for internal errors.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/evaluate.h"
#include "runtime/models.h"
#include "runtime/objective.h"
#include "runtime/preflight.h"
#include "support/atomic_file.h"
#include "tools/options.h"
#include "tools/rule_options.h"
#include "tools/task_option.h"
#include "tools/tool_main.h"
#include "runtime/json_text.h"

namespace {

using namespace nos::runtime;

using nos::tool::kOk;
using nos::tool::UsageError;

struct Options {
  nos::tool::RuleOptions rule;
  std::string json;
  std::string task_file;
  double lr = 0;
  std::vector<double> lr_sweep;
  std::string metric = "val_acc";
  std::string objective = "auto";
  EvaluateSpec spec;
};

void add_options(CLI::App& app, Options& o) {
  nos::tool::add_rule_options(app, o.rule, {});
  auto* optimizer = app.add_option("--optimizer", o.spec.torch_optimizer,
                                   "train with LibTorch's own optimizer instead of a rule (for comparison)")
                        ->check(CLI::IsMember({"adam", "rmsprop", "sgd"}));
  for (const char* name : {"--rule", "--expr", "--tokens", "--rule-name"}) app.get_option(name)->excludes(optimizer);
  app.add_option("--momentum", o.spec.momentum, "momentum of --optimizer sgd")->needs(optimizer)->check(nos::tool::range_validator(0, 1));
  nos::tool::add_task_option(app, o.task_file);
  app.add_option("--model", o.spec.model.name, "the child network: mlp, convnet, resnet, textrnn, textcnn or a TorchScript file (docs/tasks.md)")
      ->check(nos::tool::model_validator())
      ->capture_default_str();
  app.add_option("--hidden", o.spec.model.hidden, "mlp hidden layer widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(std::int64_t{1}, kMaxHiddenWidth))
      ->capture_default_str();
  app.add_option("--data", o.spec.data,
                 "fashion-mnist; a directory with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]; "
                 "a prefix P of P-images-idx3-ubyte[.gz] and P-labels-idx1-ubyte[.gz]; a .csv file "
                 "(numeric features, integer label last, optional header); a NumPy .npz with arrays x, y "
                 "(optionally x_val, y_val: the validation split); or X.npy,Y.npy[,X_VAL.npy,Y_VAL.npy]")
      ->capture_default_str();
  app.add_option("--epochs", o.spec.epochs, "training epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  auto* lr = app.add_option("--lr", o.lr, "learning rate (positive, and not 0 in float32)")
                 ->check(nos::tool::learning_rate_validator());
  auto* sweep = app.add_option("--lr-sweep", o.lr_sweep,
                               "learning rates to try, comma-separated (e.g. 1e-4,1e-3,1e-2); "
                               "the best by --metric wins")
                    ->delimiter(',')
                    ->check(nos::tool::learning_rate_validator());
  lr->excludes(sweep);
  app.add_option("--metric", o.metric, "what picks the best rate of a sweep: val_acc (final), val_acc_mean_last_k, "
                                       "val_acc_max_last_k")
      ->check(CLI::IsMember({"val_acc", "val_acc_mean_last_k", "val_acc_max_last_k"}))
      ->capture_default_str();
  app.add_option("--device", o.spec.device, "cpu, cuda or cuda:N")
      ->check(nos::tool::device_validator())
      ->capture_default_str();
  nos::tool::add_seed_option(app, "--seed", o.spec.seed,
                             "seed of the split, the initial weights, the data order and the rule's noise");
  app.add_option("--json", o.json, "write the result as JSON to this file (runtime/README.md)");
  app.add_option("--batch-size", o.spec.batch_size, "examples per step")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--train-subset", o.spec.train_subset, "train on only this many examples (0: all)")
      ->check(nos::tool::non_negative_validator())
      ->capture_default_str();
  app.add_option("--val-fraction", o.spec.val_fraction, "part of the data held out for validation")
      ->check([](const std::string& text) {
        double f = std::strtod(text.c_str(), nullptr);
        return f > 0 && f < 1 ? std::string() : "must lie strictly between 0 and 1, got " + text;
      })
      ->capture_default_str();
  nos::tool::add_threads_option(app, o.spec.threads, "CPU threads for LibTorch and the rule's kernel (0: LibTorch's default)");
  app.add_option("--time-budget", o.spec.time_budget,
                 "wall-clock seconds of training (data loading excluded), shared equally by the runs of a "
                 "sweep; a run out of time stops early with status time_budget (0: none)")
      ->check(nos::tool::non_negative_validator())
      ->capture_default_str();
  app.add_option("--backend", o.spec.backend,
                 "kernel backend of the rule: auto (cpu if built with LLVM, else interp; cuda on GPUs), interp, cpu, cuda")
      ->check(CLI::IsMember({"auto", "interp", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--objective", o.objective,
                 "what the child learns: auto (from the data), classification, sequence_classification, regression, "
                 "lm (docs/tasks.md#objectives)")
      ->check(CLI::IsMember({"auto", "classification", "sequence_classification", "regression", "lm"}))
      ->capture_default_str();
  app.add_flag("--cuda-graphs", o.spec.cuda_graphs,
               "capture one training step in a CUDA graph and replay it (runs eagerly where impossible; the "
               "run's JSON 'graph' says which)");
  app.add_option("--check-every", o.spec.check_every,
                 "steps between reads of the loss for the divergence guard (0: 1 on the CPU, 32 on CUDA)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--last-k", o.spec.last_k, "epochs the mean/max validation accuracy are taken over")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

void print_epoch(const EpochRecord& e, int epochs, Objective objective) {
  if (metric_is_accuracy(objective))
    fmt::print("epoch {:3}/{}  train loss {:9.4f}  val loss {:9.4f}  val acc {:6.2f}%  {:6.2f} s{}\n", e.epoch, epochs,
               e.train_loss, e.val_loss, 100 * e.val_acc, e.seconds, e.complete ? "" : "  (stopped early)");
  else
    fmt::print("epoch {:3}/{}  train loss {:9.4f}  val loss {:9.4f}  {} {:9.5g}  {:6.2f} s{}\n", e.epoch, epochs,
               e.train_loss, e.val_loss, metric_caption(objective), e.val_acc, e.seconds,
               e.complete ? "" : "  (stopped early)");
  std::fflush(stdout);
}

// What the data holds, for the first line: classes, regression targets, or token sequences.
std::string data_text(const Dataset& data, Objective objective) {
  if (objective == Objective::Regression) return fmt::format("{} examples, {} target(s), regression", data.size(), data.target_width);
  if (objective == Objective::LanguageModel)
    return fmt::format("{} sequences of {} tokens, vocabulary {}, lm", data.size(), data.shape.at(0), data.vocabulary);
  return fmt::format("{} examples, {} classes", data.size(), data.num_classes);
}

// Checks the report file before training, so that a path that cannot be written fails first;
// it is written (atomically) only at the end.
void check_report(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw std::invalid_argument(fmt::format("--json: '{}' is a directory", path));
  nos::support::check_writable(path, "--json");
}

int run(const CLI::App& app, Options& o) {
  if (!o.rule.given() && o.spec.torch_optimizer.empty())
    throw UsageError("give the rule to train with: --rule FILE|TEXT, -e TEXT or --tokens TOKENS (or --optimizer)");
  o.spec.lrs = o.lr_sweep;
  if (o.spec.lrs.empty()) {
    if (o.lr <= 0) throw UsageError("give a positive learning rate: --lr X or --lr-sweep X,Y,...");
    o.spec.lrs = {o.lr};
  }
  o.spec.metric = *parse_metric(o.metric);
  o.spec.objective = *parse_objective(o.objective);
  nos::tool::apply_task_file(app, o.task_file, TaskSpec{}, o.spec.task());
  check_report(o.json);

  // The rule is compiled here, not by evaluate(): a mistake in it is the user's, exit 1 with its place.
  std::optional<nos::compiler::CompiledRule> rule;
  if (o.rule.given()) {
    o.spec.rule = o.rule.source();
    rule = nos::compiler::compile_one(*o.spec.rule);
    nos::tool::print_warnings(*rule);
  }
  // The data loaded and split, the model built: what evaluate() would refuse, before any training.
  ChildPreflight checked = preflight_child(o.spec);
  for (const std::string& warning : checked.warnings) fmt::print(stderr, "nos-train: warning: {}\n", warning);
  const Dataset& data = checked.data;
  const Objective objective = checked.objective;
  fmt::print("{} on {} ({}), model {}\n", rule ? rule->display() : OptimizerSpec{{}, o.spec.torch_optimizer, o.spec.momentum}.describe(),
             o.spec.data, data_text(data, objective), o.spec.model.name);
  if (!metric_is_accuracy(objective))
    fmt::print("metric: {} (higher is better)\n", metric_label(objective));

  Observer observer;
  observer.on_run_start = [&](double lr) {
    if (o.spec.lrs.size() > 1) fmt::print("lr {:g}\n", lr);
  };
  observer.on_epoch = [&](const EpochRecord& e) { print_epoch(e, o.spec.epochs, objective); };
  EvaluateResult result = evaluate(o.spec, observer, {rule ? &*rule : nullptr, &data, &checked.split});

  if (o.spec.lrs.size() > 1)
    for (const RunResult& r : result.runs)
      if (metric_is_accuracy(objective))
        fmt::print("  lr {:<10g} {:<14} val acc {:6.2f}%\n", r.lr, name(r.status), 100 * r.val_acc);
      else
        fmt::print("  lr {:<10g} {:<14} {} {}\n", r.lr, name(r.status), metric_caption(objective), metric_text(objective, r.val_acc));
  if (!result.runs.empty() && !metric_is_accuracy(objective)) {
    const RunResult& best = result.runs[result.best];
    fmt::print("{}: {} {} (higher is better; mean of last {} epochs {}, max {}), lr {:g}, backend {}, {:.1f} s "
               "(train {:.1f} s, validation {:.1f} s, compile {:.2f} s, data {:.1f} s; {} train, {} validation)\n",
               name(result.status), metric_caption(objective), metric_text(objective, best.val_acc), best.last_k,
               metric_text(objective, best.val_acc_mean_last_k), metric_text(objective, best.val_acc_max_last_k), best.lr,
               best.backend, result.timings.total, result.timings.training, result.timings.validation,
               result.timings.compile, result.timings.data, result.data.train_size, result.data.val_size);
  } else if (!result.runs.empty()) {
    const RunResult& best = result.runs[result.best];
    fmt::print("{}: val acc {:.2f}% (mean of last {} epochs {:.2f}%, max {:.2f}%), lr {:g}, backend {}, {:.1f} s "
               "(train {:.1f} s, validation {:.1f} s, compile {:.2f} s, data {:.1f} s; {} train, {} validation)\n",
               name(result.status), 100 * best.val_acc, best.last_k, 100 * best.val_acc_mean_last_k,
               100 * best.val_acc_max_last_k, best.lr, best.backend, result.timings.total, result.timings.training,
               result.timings.validation, result.timings.compile, result.timings.data, result.data.train_size,
               result.data.val_size);
  } else {
    fmt::print("{}\n", name(result.status));
  }
  if (!result.message.empty()) fmt::print("{}\n", result.message);

  if (!o.json.empty()) nos::support::write_file_atomically(o.json, nos::json_text(to_json(result, o.spec), 2) + "\n", "--json");
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nos-train: train a child network with an optimizer update rule and report its validation accuracy."};
  app.name("nos-train");
  app.footer("Exit status: 0 finished (also when the run diverged or the kernel could not be built: see status), "
             "1 invalid rule or input, 2 usage error, 3 internal error.");
  Options options;
  add_options(app, options);
  return nos::tool::run_main(app, argc, argv, [&] { return run(app, options); });
}
