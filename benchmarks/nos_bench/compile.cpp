// nos-bench compile: how long a rule takes from text to a runnable kernel, per backend and stage.
//
//   frontend      parse + lower + optimize + canonical hash (every backend pays it)
//   llvm          first compile in the process (LLVM and ORC start-up included), then cold
//                 compiles of never-seen rules split into emit (IR -> object) and link (ORC), a load
//                 of the object from the disk cache, and make_executor: cold, and a memory-cache hit
//   nvrtc         CUDA source generation and NVRTC compilation to CUBIN for --arch (no GPU needed);
//                 a memory-cache hit of make_executor where a GPU is present
//
// Never-seen rules are the benchmark rules times a new constant each (x * 1.000244...), so no cache
// anywhere can answer them; the kernel does the same work plus one multiply.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/bench_rules.h"
#include "benchmarks/nos_bench/commands.h"
#include "benchmarks/nos_bench/timing.h"
#include "compiler/codegen/executor.h"
#include "compiler/codegen/kernel_cache.h"
#include "compiler/passes.h"
#include "runtime/json_text.h"
#include "support/atomic_file.h"
#ifdef NOS_BENCH_LLVM
#include "compiler/codegen/llvm/cpu_backend.h"
#endif
#ifdef NOS_BENCH_NVRTC
#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/cuda_driver.h"
#include "compiler/codegen/cuda/nvrtc.h"
#endif

namespace nos::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct CompileOptions {
  std::string json;
  int reps = 20;
  std::vector<std::string> rules{"adam", "powersign", "random1", "random2", "random3"};
  int random_groups = 2;
  std::string arch = "sm_90";
};

struct Record {
  std::string backend, stage, rule;
  Stats stats;  // in milliseconds; printed in µs where that reads better
  std::string note;
};

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

// Times `run(k)` for k = 0..reps-1, each call on a fresh input k: no warm-up, since a warm-up would
// be the cache these measurements must avoid.
template <class Run>
Stats time_each(int reps, Run run) {
  std::vector<double> samples;
  for (int k = 0; k < reps; ++k) {
    auto start = Clock::now();
    run(k);
    samples.push_back(ms_since(start));
  }
  return summarize(std::move(samples));
}

// The rule times a constant no earlier variant used: a new canonical hash, the same kernel shape.
ir::Function variant(const ir::Function& f) {
  static int next = 1;  // process-wide, so two stages never share a variant
  ir::Function out = f;
  ir::Builder b(out);
  out.result = b.apply(dsl::Fn::Mul, out.result, b.constant(1.0f + static_cast<float>(next++) / 4096.0f));
  return ir::optimize(out);
}

std::vector<ir::Function> variants(const ir::Function& f, int count) {
  std::vector<ir::Function> out;
  for (int k = 0; k < count; ++k) out.push_back(variant(f));
  return out;
}

// A private cache directory: the cold measurements must not find kernels of earlier runs, and
// the user's cache must not fill with benchmark variants.
struct ScratchCache {
  std::filesystem::path dir;
  ScratchCache() {
    dir = std::filesystem::temp_directory_path() / fmt::format("nos-bench-cache-{}", std::random_device{}());
    std::filesystem::create_directories(dir);
    setenv("NOS_CACHE_DIR", dir.c_str(), 1);
  }
  ~ScratchCache() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void frontend(const std::vector<BenchRule>& rules, int reps, std::vector<Record>& out) {
  for (const BenchRule& r : rules) {
    std::string text = r.rule.text;
    Stats s = time_each(reps, [&](int) { compiler::compile_text(text, {.check_non_finite = false}); });
    out.push_back({"all", "frontend", r.name, s, "parse + lower + optimize + hash + canonical text"});
  }
}

void executor_stages(codegen::Backend backend, const char* label, const std::vector<BenchRule>& rules, int reps,
                     std::vector<Record>& out) {
  std::string why;
  if (!codegen::backend_available(backend, &why)) {
    out.push_back({label, "executor", "-", {}, "skipped: " + why});
    return;
  }
  for (const BenchRule& r : rules) {
    codegen::ExecutorOptions no_disk;
    no_disk.use_disk_cache = false;
    std::vector<ir::Function> fresh = variants(r.rule.optimized, reps);
    Stats cold = time_each(reps, [&](int k) { codegen::make_executor(fresh[k], backend, codegen::DType::F32, no_disk); });
    out.push_back({label, "executor_cold", r.name, cold, "make_executor of a never-seen rule, disk cache off"});
    [[maybe_unused]] auto loaded = codegen::make_executor(r.rule.optimized, backend, codegen::DType::F32);
    Stats hit = time_each(std::max(reps, 1000), [&](int) { codegen::make_executor(r.rule.optimized, backend, codegen::DType::F32); });
    out.push_back({label, "memory_hit", r.name, hit, "make_executor of a rule already loaded in this process"});
  }
}

#ifdef NOS_BENCH_LLVM
void llvm_stages(const std::vector<BenchRule>& rules, int reps, std::vector<Record>& out) {
  {
    auto start = Clock::now();
    codegen::cpu::CpuKernel::compile(variant(rules.front().rule.optimized), codegen::DType::F32);
    double ms = ms_since(start);
    out.push_back({"llvm", "first_compile", rules.front().name, {ms, ms, ms, 1}, "LLVM and ORC start-up included"});
  }
  codegen::DiskCache disk(std::filesystem::path(std::getenv("NOS_CACHE_DIR")) / "bench");
  std::string target = codegen::cpu::cpu_target_id();
  for (const BenchRule& r : rules) {
    std::vector<ir::Function> fresh = variants(r.rule.optimized, reps);
    Stats cold = time_each(reps, [&](int k) { codegen::cpu::CpuKernel::compile(fresh[k], codegen::DType::F32); });
    out.push_back({"llvm", "cold_compile", r.name, cold, "CpuKernel::compile: emit + link"});

    std::vector<std::string> objects(reps);
    fresh = variants(r.rule.optimized, reps);
    Stats emit = time_each(reps, [&](int k) { objects[k] = codegen::cpu::emit_object(fresh[k], codegen::DType::F32); });
    out.push_back({"llvm", "emit_object", r.name, emit, "IR -> LLVM module -> O2 -> object"});
    std::vector<std::shared_ptr<codegen::cpu::CpuKernel>> linked;  // unloading is not what is timed
    Stats link = time_each(reps, [&](int k) { linked.push_back(codegen::cpu::CpuKernel::load_object(objects[k])); });
    out.push_back({"llvm", "link", r.name, link, "CpuKernel::load_object: ORC links the object"});

    codegen::CacheKey key{r.rule.hash, "llvm", "f32", target, "nos-bench"};
    disk.write(key, codegen::cpu::emit_object(r.rule.optimized, codegen::DType::F32));
    Stats load = time_each(reps, [&](int) {
      std::optional<std::string> bytes = disk.read(key);
      if (!bytes) throw std::runtime_error("the disk cache lost its entry");
      linked.push_back(codegen::cpu::CpuKernel::load_object(*bytes));
    });
    out.push_back({"llvm", "disk_load", r.name, load, "DiskCache::read + load_object (what a disk hit costs)"});
  }
}
#endif

#ifdef NOS_BENCH_NVRTC
void nvrtc_stages(const std::vector<BenchRule>& rules, int reps, const std::string& arch, std::vector<Record>& out) {
  {
    auto start = Clock::now();
    codegen::cuda::compile(codegen::cuda::kernel_source(variant(rules.front().rule.optimized), codegen::DType::F32), arch);
    double ms = ms_since(start);
    out.push_back({"nvrtc", "first_compile", rules.front().name, {ms, ms, ms, 1}, "to " + arch + ", NVRTC start-up included"});
  }
  for (const BenchRule& r : rules) {
    std::vector<std::string> sources(reps);
    std::vector<ir::Function> fresh = variants(r.rule.optimized, reps);
    Stats gen = time_each(reps, [&](int k) { sources[k] = codegen::cuda::kernel_source(fresh[k], codegen::DType::F32); });
    out.push_back({"nvrtc", "codegen", r.name, gen, "IR -> CUDA C++"});
    Stats cold = time_each(reps, [&](int k) { codegen::cuda::compile(sources[k], arch, codegen::cuda::ImageKind::Cubin); });
    out.push_back({"nvrtc", "cold_compile", r.name, cold, "NVRTC to CUBIN for " + arch});
  }
}
#endif

void print(const std::vector<Record>& records) {
  fmt::print("{:<7} {:<14} {:<10} {:>12} {:>12} {:>12} {:>6}  {}\n", "backend", "stage", "rule", "median", "min", "max",
             "reps", "what");
  for (const Record& r : records) {
    if (r.stats.reps == 0) {
      fmt::print("{:<7} {:<14} {:<10} {}\n", r.backend, r.stage, r.rule, r.note);
      continue;
    }
    // Cache hits are a few µs, compiles several ms: each in the unit that reads best.
    bool us = r.stats.median_ms < 1;
    double f = us ? 1000 : 1;
    const char* unit = us ? "us" : "ms";
    fmt::print("{:<7} {:<14} {:<10} {:9.1f} {} {:9.1f} {} {:9.1f} {} {:6}  {}\n", r.backend, r.stage, r.rule,
               r.stats.median_ms * f, unit, r.stats.min_ms * f, unit, r.stats.max_ms * f, unit, r.stats.reps, r.note);
  }
  std::fflush(stdout);
}

nlohmann::json to_json(const std::vector<Record>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const Record& r : records) {
    nlohmann::json j = {{"backend", r.backend}, {"stage", r.stage}, {"rule", r.rule}, {"note", r.note}};
    if (r.stats.reps > 0) {
      j["us_median"] = 1000 * r.stats.median_ms;
      j["us_min"] = 1000 * r.stats.min_ms;
      j["us_max"] = 1000 * r.stats.max_ms;
      j["ms_median"] = r.stats.median_ms;
      j["reps"] = r.stats.reps;
    } else {
      j["skipped"] = r.note;
    }
    out.push_back(std::move(j));
  }
  return out;
}

int run_compile(const CompileOptions& o) {
#ifdef NOS_BENCH_NVRTC
  if (std::string problem = codegen::cuda::arch_problem(o.arch); !problem.empty())
    throw UsageError(fmt::format("--arch {}: {}", o.arch, problem));
#endif
  std::vector<BenchRule> rules = select_rules(o.rules, o.random_groups);
  if (rules.empty()) throw UsageError("--rules: give at least one rule");
  if (!o.json.empty()) support::check_writable(o.json, "--json");
  ScratchCache scratch;
  std::vector<Record> records;
  fmt::print(stderr, "nos-bench compile: frontend\n");
  frontend(rules, o.reps, records);
#ifdef NOS_BENCH_LLVM
  fmt::print(stderr, "nos-bench compile: llvm\n");
  llvm_stages(rules, o.reps, records);
#else
  records.push_back({"llvm", "compile", "-", {}, "skipped: this build has no LLVM backend (NOS_WITH_LLVM=OFF)"});
#endif
  fmt::print(stderr, "nos-bench compile: executor (cpu)\n");
  executor_stages(codegen::Backend::Cpu, "llvm", rules, o.reps, records);
#ifdef NOS_BENCH_NVRTC
  fmt::print(stderr, "nos-bench compile: nvrtc\n");
  nvrtc_stages(rules, o.reps, o.arch, records);
  executor_stages(codegen::Backend::Cuda, "nvrtc", rules, o.reps, records);
#else
  records.push_back({"nvrtc", "compile", "-", {}, "skipped: this build has no CUDA backend (NOS_WITH_CUDA=OFF)"});
#endif
  print(records);
  for (const BenchRule& r : rules) fmt::print("  {}: {}\n", r.name, r.rule.text);
  if (!o.json.empty()) {
    support::write_file_atomically(o.json, json_text(to_json(records), 2) + "\n", "--json");
  }
  return kOk;
}

}  // namespace

void add_compile_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<CompileOptions>();
  CLI::App* cmd = app.add_subcommand("compile", "time compiling rules: cold, from the disk cache, and memory-cache hits");
  cmd->add_option("--json", o->json, "write one JSON record per (backend, stage, rule) to this file");
  cmd->add_option("--reps", o->reps, "samples per measurement")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--rules", o->rules, "rules, comma-separated (as for 'kernels')")->delimiter(',')->capture_default_str();
  cmd->add_option("--random-groups", o->random_groups, "token groups of each random rule")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  cmd->add_option("--arch", o->arch, "NVRTC target (CUBIN), e.g. sm_80, sm_90")->capture_default_str();
  cmd->callback([&run, o] { run = [o] { return run_compile(*o); }; });
}

}  // namespace nos::bench
