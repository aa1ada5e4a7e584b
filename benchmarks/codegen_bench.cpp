// nos-codegen-bench: what the LLVM CPU backend costs and delivers, as JSON lines.
//
//   {"bench":"compile", ...}    compile time of a rule from IR to a linked kernel, with no cache:
//                                the first in the process (LLVM and JIT start-up included for the
//                                first rule), the median of later ones, and their median thread
//                                CPU time (robust to other load on the machine)
//   {"bench":"bandwidth", ...}  a rule's kernel over 16M floats, in GB/s of the bytes it must move
//                                (ir::bytes_per_param), next to a copy-like loop that reads and
//                                writes exactly the same arrays, measured in the same run
//
// Every time is the median of --reps runs after one warm-up run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include <fmt/format.h>

#include "compiler/codegen/llvm/cpu_backend.h"
#include "compiler/compile.h"
#include "tools/tool_main.h"

namespace {

using namespace nos;
using namespace nos::codegen;
using Clock = std::chrono::steady_clock;

struct Rule {
  const char* name;
  const char* text;
};
constexpr Rule kRules[] = {
    {"sgd", "g"},
    {"adam", "adam"},
    {"powersign", "exp(sign(g) * sign(m)) * g"},
};

double milliseconds(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

ir::Function compile_rule(const char* text) { return compiler::compile_text(text, {.check_non_finite = false}).optimized; }

// The baseline: one fused loop that reads and writes the same arrays as the rule's kernel, with
// one add per array so nothing can be elided. Compiled by the host compiler, auto-vectorized.
template <int States>
void copy_like(const KernelTensor& t, std::int64_t begin, std::int64_t end) {
  float* __restrict w = static_cast<float*>(t.w);
  const float* __restrict g = static_cast<const float*>(t.g);
  float* __restrict s0 = t.state[0];
  float* __restrict s1 = t.state[1];
  float* __restrict s2 = t.state[2];
  for (std::int64_t i = begin; i < end; ++i) {
    float gi = g[i];
    w[i] = w[i] + gi;
    if constexpr (States > 0) s0[i] = s0[i] + gi;
    if constexpr (States > 1) s1[i] = s1[i] + gi;
    if constexpr (States > 2) s2[i] = s2[i] + gi;
  }
}

void copy_like(const KernelTensor& t, std::size_t states, std::int64_t begin, std::int64_t end) {
  switch (states) {
    case 0: return copy_like<0>(t, begin, end);
    case 1: return copy_like<1>(t, begin, end);
    case 2: return copy_like<2>(t, begin, end);
    default: return copy_like<3>(t, begin, end);
  }
}

// Runs `chunk(begin, end)` over [0, n) in CpuKernel-sized ranges on `threads` threads.
template <typename Chunk>
void parallel_ranges(std::int64_t n, int threads, Chunk chunk) {
  const std::int64_t size = cpu::CpuKernel::kChunkElements;
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (std::int64_t b = t * size; b < n; b += threads * size) chunk(b, std::min(n, b + size));
    });
  for (std::int64_t b = 0; b < n; b += threads * size) chunk(b, std::min(n, b + size));
  for (std::thread& t : pool) t.join();
}

template <typename Run>
double median_ms(int reps, Run run) {
  run();  // warm-up: page faults, thread start, caches
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    auto start = Clock::now();
    run();
    times.push_back(milliseconds(start));
  }
  return median(times);
}

// CPU time of the calling thread: unlike wall time, barely affected by other processes on a
// shared machine (compiles are single-threaded).
double thread_cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

void bench_compile(const Rule& rule, int reps) {
  ir::Function f = compile_rule(rule.text);
  auto start = Clock::now();
  cpu::CpuKernel::compile(f, DType::F32);
  double first = milliseconds(start);
  double median = median_ms(reps, [&] { cpu::CpuKernel::compile(f, DType::F32); });
  std::vector<double> cpu;
  for (int r = 0; r < reps; ++r) {
    double begin = thread_cpu_ms();
    cpu::CpuKernel::compile(f, DType::F32);
    cpu.push_back(thread_cpu_ms() - begin);
  }
  fmt::print(R"({{"bench":"compile","rule":"{}","first_in_process_ms":{:.2f},"compile_ms":{:.2f},"compile_cpu_ms":{:.2f}}})"
             "\n",
             rule.name, first, median, ::median(cpu));
  std::fflush(stdout);
}

void bench_bandwidth(const Rule& rule, std::int64_t n, int threads, int reps) {
  ir::Function f = compile_rule(rule.text);
  auto kernel = cpu::CpuKernel::compile(f, DType::F32);
  std::vector<float> w(n, 0.5f), g(n, 1e-3f);
  std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(n, 0.0f));
  KernelTensor tensor{};
  tensor.w = w.data();
  tensor.g = g.data();
  for (std::size_t s = 0; s < states.size(); ++s) tensor.state[s] = states[s].data();
  tensor.numel = n;
  ir::StepInputs inputs = ir::step_inputs(f, 1, 1000);
  KernelStep step{};
  step.lr = 1e-3f;
  step.t = 1;
  std::size_t k = 0;
  for (float v : inputs.step_scalars) step.inputs[k++] = v;
  for (float v : inputs.bias_correction) step.inputs[k++] = v;

  double kernel_ms = median_ms(reps, [&] { kernel->run(&tensor, 1, step, threads); });
  double copy_ms = median_ms(reps, [&] {
    parallel_ranges(n, threads, [&](std::int64_t b, std::int64_t e) { copy_like(tensor, states.size(), b, e); });
  });
  double bytes = static_cast<double>(ir::bytes_per_param(f)) * static_cast<double>(n);
  double kernel_gbs = bytes / kernel_ms / 1e6, copy_gbs = bytes / copy_ms / 1e6;
  fmt::print(R"({{"bench":"bandwidth","rule":"{}","elements":{},"threads":{},"bytes_per_element":{},)"
             R"("kernel_ms":{:.3f},"kernel_gbs":{:.2f},"copy_ms":{:.3f},"copy_gbs":{:.2f},"ratio":{:.3f}}})"
             "\n",
             rule.name, n, threads, ir::bytes_per_param(f), kernel_ms, kernel_gbs, copy_ms, copy_gbs, kernel_gbs / copy_gbs);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  std::int64_t n = 16 << 20;
  CLI::App app{"nos-codegen-bench: compile time and bandwidth of the LLVM CPU backend's kernels, as JSON lines."};
  app.name("nos-codegen-bench");
  app.add_option("--reps", reps, "timed runs per measurement (the median is reported)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--elements", n, "floats per tensor of the bandwidth runs")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  app.footer("Exit status: 0 success, 1 invalid input or unwritable output, 2 usage error, 3 internal error.");
  return tool::run_main(app, argc, argv, [&] {
    fmt::print(R"({{"bench":"target","cpu":"{}"}})" "\n", cpu::cpu_target_id());
    for (const Rule& rule : {kRules[1], kRules[2]}) bench_compile(rule, reps);
    for (const Rule& rule : kRules)
      for (int threads : {1, 2}) bench_bandwidth(rule, n, threads, reps);
    return int(tool::kOk);
  });
}
