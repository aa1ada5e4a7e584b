// The LLVM kernels against the reference interpreter, bit for bit: hand-written rules that cover
// every function, operand and special value, then thousands of random token-form rules.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <time.h>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "differential.h"
#include "dsl/tokens.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cpu;
using namespace nos::codegen::cpu::testing;

namespace {

const char* const kHandWrittenRules[] = {
    "g",                                    // sgd
    "adam",
    "rmsprop",
    "exp(sign(g) * sign(m)) * g",           // powersign
    "exp(ld * sign(g) * sign(m)) * g",      // powersign-ld
    "(1 + sign(g) * sign(m)) * g",          // addsign
    "(1 + cd * sign(g) * sign(m)) * g",     // addsign-cd
    "(exp(sign(g) * sign(m)) + clip(g, 0.0001)) * g",
    "drop(m, 0.3) * exp(w)",
    "g + drop(m, 0.3)",
    "drop(g, 0.1) + drop(m, 0.5) * drop(v, 0.3)",  // three random streams
    "g + eps",
    "g * (1 + noise)",
    "rd * g + cd * m - ld * v",
    "clip(g, 0.001) - clip(m, 1e-5)",
    "pow(g, 2) + pow(m, v) - pow(w, -0.5)",
    "g ^ 3 + sign(w) ^ y",
    "log(g) + log(v) * exp(-w)",
    "exp(g) / (log(m) + sqrt(v))",
    "sqrt(g3) - sqrt(g2) + y",
    "keep(g, v) - neg(w1) * w4 + w3 - w2",
    "adam with beta1 = 0.8, beta2 = 0.99, adam_eps = 1e-6",
    "m / (sqrt(v) + 1e-3) with bias_correction = off",
    "g / 0",                                // delta keeps it finite
    "exp(1000 * g) - log(0 * g)",           // inf, NaN
};

// CPU time of the calling thread: a compile's cost even when other processes share the machine.
double thread_cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

ir::Function random_rule(std::mt19937_64& rng, int index) {
  int groups = 1 + static_cast<int>(rng() % 3);
  dsl::TokenSequence tokens = dsl::random_tokens(rng, groups);
  ir::Function f = ir::optimize(ir::lower(dsl::to_rule(tokens, "random" + std::to_string(index))));
  f.name = dsl::print_tokens(tokens);
  return f;
}

}  // namespace

TEST_CASE("llvm: hand-written rules match the interpreter bit for bit") {
  for (const char* text : kHandWrittenRules) {
    ir::Function f = compile_rule(text);
    auto kernel = CpuKernel::compile(f, DType::F32);
    CHECK_MESSAGE(compare_with_interpreter(f, *kernel) == "", text);
  }
}

TEST_CASE("llvm: the differential harness reports a kernel that computes something else") {
  auto sgd = CpuKernel::compile(compile_rule("g"), DType::F32);
  std::string difference = compare_with_interpreter(compile_rule("g * 1.0000001"), *sgd);
  CHECK(difference.find("w kernel") != std::string::npos);
  // A state the result does not read, with another beta: only the state can differ.
  auto with_beta = [](float beta) {
    ir::Function f;
    f.name = "g, updating m";
    f.states.push_back({1, beta, true});
    f.result = ir::Builder(f).leaf(ir::Op::Grad);
    return f;
  };
  auto kernel = CpuKernel::compile(with_beta(0.5f), DType::F32);
  difference = compare_with_interpreter(with_beta(0.9f), *kernel);
  CHECK(difference.find("state kernel") != std::string::npos);
}

TEST_CASE("llvm: kernels split into chunks over threads match the interpreter") {
  // One tensor of several chunks plus small ones: chunk boundaries inside a tensor must not change
  // a bit, random draws included (they are keyed by the element's index in its tensor).
  for (const char* text : {"adam", "drop(m, 0.3) * exp(w)", "g * (1 + noise) + eps"})
    for (int threads : {1, 3}) {
      ir::Function f = compile_rule(text);
      auto kernel = CpuKernel::compile(f, DType::F32);
      RunOptions options;
      options.sizes = {3 * CpuKernel::kChunkElements + 5, 1, 77};
      options.steps = 2;
      options.threads = threads;
      CHECK_MESSAGE(compare_with_interpreter(f, *kernel, options) == "", text, " on ", threads, " threads");
    }
}

TEST_CASE("llvm: tensors of whole vectors, of a remainder only, and of both match the interpreter") {
  // The main loop takes whole vectors (4, 8 or 16 lanes), the remainder loop what is left.
  for (const char* text : {"g", "adam", "drop(m, 0.3) * exp(w)"}) {
    ir::Function f = compile_rule(text);
    auto kernel = CpuKernel::compile(f, DType::F32);
    RunOptions options;
    options.sizes = {3, 4, 8, 15, 16, 17, 31, 32, 33, 64, 65, 127};
    CHECK_MESSAGE(compare_with_interpreter(f, *kernel, options) == "", text);
  }
}

TEST_CASE("llvm: a range that starts and ends inside a vector computes what one whole call does") {
  for (const char* text : {"adam", "drop(m, 0.3) * exp(w)"}) {
    CAPTURE(text);
    ir::Function f = compile_rule(text);
    auto kernel = CpuKernel::compile(f, DType::F32);
    const std::int64_t n = 100;
    auto run = [&](const std::vector<std::int64_t>& cuts) {
      std::vector<std::vector<float>> buffers(2 + f.states.size(), std::vector<float>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        buffers[0][i] = 0.5f + 0.01f * static_cast<float>(i);
        buffers[1][i] = std::sin(static_cast<float>(i));
      }
      KernelTensor tensor{};
      tensor.w = buffers[0].data();
      tensor.g = buffers[1].data();
      for (std::size_t s = 0; s < f.states.size(); ++s) tensor.state[s] = buffers[2 + s].data();
      tensor.numel = n;
      tensor.tensor_id = 3;
      KernelStep step{};
      step.lr = 1e-3f;
      step.t = 1;
      step.seed = 7;
      for (float& input : step.inputs) input = 1.0f;
      for (std::size_t c = 0; c + 1 < cuts.size(); ++c) kernel->entry()(&tensor, 0, cuts[c], cuts[c + 1], &step);
      return buffers;
    };
    auto whole = run({0, n});
    auto pieces = run({0, 5, 21, 22, 38, n});
    for (std::size_t b = 0; b < whole.size(); ++b)
      for (std::int64_t i = 0; i < n; ++i) {
        CAPTURE(b);
        CAPTURE(i);
        CHECK(std::memcmp(&whole[b][i], &pieces[b][i], sizeof(float)) == 0);
      }
  }
}

TEST_CASE("llvm: bf16 and f16 kernels round w like the interpreter followed by rounding") {
  for (DType dtype : {DType::BF16, DType::F16})
    for (const char* text : {"g", "adam", "exp(sign(g) * sign(m)) * g", "pow(g, v) + log(m) + eps"}) {
      ir::Function f = compile_rule(text);
      auto kernel = CpuKernel::compile(f, dtype);
      RunOptions options;
      options.dtype = dtype;
      CHECK_MESSAGE(compare_with_interpreter(f, *kernel, options) == "", name(dtype), " ", text);
    }
}

TEST_CASE("llvm: a kernel loaded from its object file computes the same") {
  ir::Function f = compile_rule("drop(m, 0.3) * exp(w) + pow(g, 0.5)");
  auto kernel = CpuKernel::load_object(emit_object(f, DType::F32));
  CHECK(compare_with_interpreter(f, *kernel) == "");
}

TEST_CASE("llvm: 2000 random rules match the interpreter bit for bit" * doctest::timeout(300)) {
  // The rules are drawn in order (the same 2000 every run); two threads compile and compare them,
  // as compile time dominates and compiles are independent.
  const int rules = 2000;
  std::mt19937_64 rng(2024);
  std::vector<ir::Function> functions;
  std::vector<std::uint64_t> data_seeds;
  for (int r = 0; r < rules; ++r) {
    functions.push_back(random_rule(rng, r));
    data_seeds.push_back(rng());
  }
  std::vector<std::string> differences(rules);
  std::vector<double> compile_ms(rules);
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int r = next++; r < rules; r = next++) {
      try {
        double start = thread_cpu_ms();
        auto kernel = CpuKernel::compile(functions[r], DType::F32);
        compile_ms[r] = thread_cpu_ms() - start;
        RunOptions options;
        options.data_seed = data_seeds[r];
        differences[r] = compare_with_interpreter(functions[r], *kernel, options);
      } catch (const std::exception& e) {
        differences[r] = "rule '" + functions[r].name + "' threw: " + e.what();
      }
    }
  };
  std::thread helper(worker);
  worker();
  helper.join();

  int failures = 0;
  for (const std::string& difference : differences)
    if (!difference.empty() && ++failures <= 5) FAIL_CHECK(difference);
  CHECK(failures == 0);
  std::vector<double> sorted = compile_ms;
  std::sort(sorted.begin(), sorted.end());
  double total = 0;
  for (double ms : compile_ms) total += ms;
  MESSAGE("compile CPU time per random rule: mean ", total / rules, " ms, median ", sorted[rules / 2], " ms, max ",
          sorted.back(), " ms");
}
