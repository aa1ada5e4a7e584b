// nos-bench kernels: one optimizer step of each rule, by each implementation (step_impls.h), over
// single tensors of several sizes and over ResNet-50's parameters, timed in interleaved rounds
// (or one implementation after the other with --sequential). Tables to stdout, records to --json.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/report.h"
#include "benchmarks/nos_bench/resnet50_shapes.h"
#include "benchmarks/nos_bench/step_impls.h"
#include "support/atomic_file.h"
#include "tools/options.h"
#include "runtime/json_text.h"

namespace nos::bench {
namespace {

struct KernelsOptions {
  std::string device = "cpu";
  std::string json;
  int threads = 0;
  std::vector<std::string> sizes{"1M", "4M", "16M", "64M"};
  std::vector<std::string> layouts{"single", "resnet50"};
  std::vector<std::string> rules{"sgd", "adam", "rmsprop", "powersign", "addsign", "random1", "random2", "random3"};
  tool::RuleOptions extra_rules;  // --rule, -e, --tokens, --rule-name
  std::vector<std::string> impls{"nos", "libtorch", "aten-eager", "aten-fused", "roofline"};
  int random_groups = 2;
  MeasureOptions measure;
  bool sequential = false;
};

// "16M" = 16 * 2^20 floats; K and G likewise; a plain number is a count.
std::int64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--sizes: '{}' is not a size (e.g. 1M, 512K, 1000)", text));
  }
  std::string suffix = text.substr(used);
  int shift = suffix.empty() ? 0 : suffix == "K" || suffix == "k" ? 10 : suffix == "M" ? 20 : suffix == "G" ? 30 : -1;
  if (shift < 0 || value <= 0) throw UsageError(fmt::format("--sizes: '{}' is not a size (e.g. 1M, 512K, 1000)", text));
  if (value > (std::numeric_limits<std::int64_t>::max() >> shift))
    throw UsageError(fmt::format("--sizes: {} is too large", text));
  return static_cast<std::int64_t>(value) << shift;
}

// LibTorch's "not implemented" errors run to a screenful; the first sentence says it.
std::string brief(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  std::size_t stop = line.find(". ");
  return stop == std::string::npos ? line : line.substr(0, stop + 1);
}

std::vector<Workload> workloads(const KernelsOptions& o) {
  std::vector<Workload> out;
  for (const std::string& layout : o.layouts) {
    if (layout == "single") {
      for (const std::string& size : o.sizes) {
        std::int64_t n = parse_size(size);
        out.push_back({"single", {{n}}, n, o.device, o.threads});
      }
    } else if (layout == "resnet50") {
      Workload w{"resnet50", {}, 0, o.device, o.threads};
      for (const NamedShape& s : resnet50_parameter_shapes()) {
        w.shapes.push_back(s.shape);
        w.numel += numel(s.shape);
      }
      out.push_back(std::move(w));
    } else {
      // ResNet-50's tensor count with 4 floats each: almost no memory traffic, so a step's time is
      // its fixed cost (the optimizer's per-tensor bookkeeping, the dispatch or launch, the wait).
      Workload w{"overhead", {}, 0, o.device, o.threads};
      for (std::size_t k = 0; k < resnet50_parameter_shapes().size(); ++k) w.shapes.push_back({4});
      w.numel = 4 * static_cast<std::int64_t>(w.shapes.size());
      out.push_back(std::move(w));
    }
  }
  return out;
}

std::vector<BenchRule> rules(const KernelsOptions& o) {
  std::vector<BenchRule> out = select_rules(o.rules, o.random_groups);
  for (BenchRule& rule : given_rules(o.extra_rules.sources())) out.push_back(std::move(rule));
  return out;
}

Impl parse_impl(const std::string& text) {
  for (Impl impl : all_impls())
    if (text == name(impl)) return impl;
  throw UsageError(fmt::format("--impls: unknown implementation '{}'", text));
}

KernelRecord make_record(Impl impl, const BenchRule& rule, const Workload& workload) {
  KernelRecord r;
  r.rule = rule.name;
  r.rule_text = rule.rule.text;
  r.rule_hash = rule.rule.hash_hex();
  r.layout = workload.layout;
  r.numel = workload.numel;
  r.tensors = static_cast<std::int64_t>(workload.shapes.size());
  r.impl = name(impl);
  r.bytes_per_param = ir::bytes_per_param(rule.rule.optimized);
  r.threads = workload.threads;
  r.device = workload.device;
  r.load_avg_1m = load_average_1m();
  return r;
}

// The runner of one implementation after one probe step, or nullptr with r.skipped set. A LibTorch
// without a kernel for this device throws on the first step (c10::Error is a std::exception): that
// is a result to report, not a reason to stop the run.
std::unique_ptr<StepRunner> ready_runner(Impl impl, const BenchRule& rule, const Workload& workload, KernelRecord& r) {
  try {
    std::unique_ptr<StepRunner> runner = make_runner(impl, rule, workload, &r.skipped);
    if (!runner) return nullptr;
    r.note = runner->note;
    runner->step();
    runner->synchronize();
    return runner;
  } catch (const std::exception& e) {
    r.skipped = brief(e.what());
    return nullptr;
  }
}

// Every implementation of one rule on one workload. Interleaved (the default): all runners exist
// at once and take their timed steps in rounds (measure_rounds), so a change in the machine's
// speed during the measurement hits every implementation alike. Each step then finds its data
// evicted by the others' steps, as an optimizer step in training finds it after forward and
// backward. Sequential: one implementation after the other, back-to-back steps, warm caches.
std::vector<KernelRecord> measure_case(const std::vector<Impl>& impls, const BenchRule& rule, const Workload& workload,
                                       const MeasureOptions& measure, bool sequential) {
  std::vector<KernelRecord> records;
  for (Impl impl : impls) records.push_back(make_record(impl, rule, workload));
  if (sequential) {
    for (std::size_t k = 0; k < impls.size(); ++k) {
      std::unique_ptr<StepRunner> runner = ready_runner(impls[k], rule, workload, records[k]);
      if (!runner) continue;
      try {
        records[k].stats = bench::measure(measure, [&] { runner->step(); }, [&] { runner->synchronize(); });
      } catch (const std::exception& e) {
        records[k].skipped = brief(e.what());
      }
    }
    return records;
  }
  std::vector<std::unique_ptr<StepRunner>> runners;
  std::vector<std::size_t> index;  // records[index[j]] belongs to runners[j]
  for (std::size_t k = 0; k < impls.size(); ++k)
    if (auto runner = ready_runner(impls[k], rule, workload, records[k])) {
      runners.push_back(std::move(runner));
      index.push_back(k);
    }
  std::vector<std::function<void()>> runs, syncs;
  for (auto& runner : runners) {
    StepRunner* p = runner.get();
    runs.emplace_back([p] { p->step(); });
    syncs.emplace_back([p] { p->synchronize(); });
  }
  try {
    std::vector<Stats> stats = measure_rounds(measure, runs, syncs);
    for (std::size_t j = 0; j < runners.size(); ++j) records[index[j]].stats = stats[j];
  } catch (const std::exception& e) {
    for (std::size_t k : index) records[k].skipped = "a step failed: " + brief(e.what());
  }
  return records;
}

void write_json(const std::string& path, const std::vector<KernelRecord>& records) {
  support::write_file_atomically(path, json_text(to_json(records), 2) + "\n", "--json");
}

int run_kernels(KernelsOptions o) {
  std::string why;
  if (!torch_device_available(o.device, &why)) throw std::invalid_argument(fmt::format("--device {}: {}", o.device, why));
  if (o.threads <= 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  set_torch_threads(o.threads);
  std::vector<Impl> impls;
  for (const std::string& text : o.impls) impls.push_back(parse_impl(text));
  std::vector<BenchRule> bench_rules = rules(o);
  std::vector<Workload> loads = workloads(o);
  if (!o.json.empty()) support::check_writable(o.json, "--json");  // fail now, not after the measurements

  fmt::print(stderr, "nos-bench kernels: load average {:g}, {}; {} rules, {} workloads, {} implementations\n",
             load_average_1m(), torch_description(), bench_rules.size(), loads.size(), impls.size());
  std::vector<KernelRecord> all;
  std::size_t total = bench_rules.size() * loads.size(), done = 0;
  for (const Workload& workload : loads) {
    std::vector<KernelRecord> records;
    for (const BenchRule& rule : bench_rules) {
      fmt::print(stderr, "[{}/{}] {} {} {} ...", ++done, total, workload.layout, workload.numel, rule.name);
      std::fflush(stderr);
      std::vector<KernelRecord> measured = measure_case(impls, rule, workload, o.measure, o.sequential);
      std::string line;
      for (const KernelRecord& r : measured)
        line += r.measured() ? fmt::format(" {} {:g} ms", r.impl, r.stats.median_ms) : fmt::format(" {} (skipped)", r.impl);
      fmt::print(stderr, "{}\n", line);
      records.insert(records.end(), measured.begin(), measured.end());
    }
    fmt::print("{}", format_table(records));
    std::fflush(stdout);
    all.insert(all.end(), records.begin(), records.end());
    if (!o.json.empty()) write_json(o.json, all);  // after every workload: a long run keeps what it measured
  }
  return kOk;
}

}  // namespace

void add_kernels_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<KernelsOptions>();
  CLI::App* cmd = app.add_subcommand("kernels", "time one optimizer step per rule and implementation "
                                                "(nos, libtorch, aten-eager, aten-fused, roofline)");
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--json", o->json, "write one JSON record per (rule, layout, numel, impl) to this file");
  tool::add_threads_option(*cmd, o->threads, "CPU threads of every implementation (0: all cores)");
  cmd->add_option("--sizes", o->sizes, "single-tensor sizes in floats, comma-separated (K, M, G = 2^10, 2^20, 2^30)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--layouts", o->layouts,
                  "single (one tensor per size), resnet50 (its 161 parameter tensors) and/or overhead (161 tensors "
                  "of 4 floats: a step's fixed cost)")
      ->delimiter(',')
      ->check(CLI::IsMember({"single", "resnet50", "overhead"}))
      ->capture_default_str();
  cmd->add_option("--rules", o->rules,
                  "rules, comma-separated: sgd adam rmsprop powersign addsign, randomK (a random rule drawn with seed K)")
      ->delimiter(',')
      ->capture_default_str();
  tool::add_rule_options(*cmd, o->extra_rules, {.repeatable = true, .what = "an extra rule"});
  cmd->add_option("--impls", o->impls, "implementations, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"nos", "libtorch", "aten-eager", "aten-fused", "roofline"}))
      ->capture_default_str();
  cmd->add_option("--random-groups", o->random_groups, "token groups of each random rule")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  cmd->add_option("--reps", o->measure.reps, "timed steps per measurement (at most)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--warmup", o->measure.warmup, "untimed steps first")->check(CLI::Range(0, 1000))->capture_default_str();
  cmd->add_option("--max-seconds", o->measure.max_seconds,
                  "stop a measurement after this much timed work, once 3 steps are timed")
      ->check(tool::non_negative_validator())
      ->capture_default_str();
  cmd->add_flag("--sequential", o->sequential,
                "time one implementation after the other with back-to-back steps (warm caches), instead of in "
                "interleaved rounds");
  cmd->callback([&run, o] { run = [o] { return run_kernels(*o); }; });
}

}  // namespace nos::bench
