// nosc's code-generation commands end to end: compile for every target on every example rule,
// eval and verify on the JIT backends, and the on-disk kernel cache across processes.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_tool;
using nos::testing::source_path;
using nos::testing::temp_file;

namespace {

struct ExampleRule {
  std::string file, name;
};

// Every named rule of every example file, as `nosc check` lists them.
std::vector<ExampleRule> example_rules() {
  std::vector<ExampleRule> rules;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("examples"))) {
    if (entry.path().extension() != ".dsl") continue;
    auto r = run_tool("nosc", {"check", entry.path().string()});
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      if (auto colon = line.find(':'); colon != std::string::npos) rules.push_back({entry.path().string(), line.substr(0, colon)});
  }
  return rules;
}

std::string steps_file() {
  return temp_file("steps.json", R"({"lr": 0.05, "total_steps": 10, "w": [0.5, -1, 2, 0, 3.5],
    "grads": [[0.1, -0.2, 0.3, 0, 1], [0.2, 0.1, -0.3, -0.05, 2], [-0.1, 0.3, 0.2, 0.1, -1]]})");
}

}  // namespace

TEST_CASE("nosc compile: CPU targets on every example rule") {
#ifndef NOS_HAVE_LLVM
  MESSAGE("[SKIP] built without the LLVM backend");
  return;
#else
  auto rules = example_rules();
  REQUIRE(rules.size() >= 20);
  for (const ExampleRule& rule : rules) {
    INFO(rule.file << " --rule " << rule.name);
    auto llvm = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "llvm"});
    CHECK(llvm.exit_code == 0);
    CHECK(llvm.out.find("define void @nos_kernel") != std::string::npos);
    auto assembly = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "asm"});
    CHECK(assembly.exit_code == 0);
    CHECK(assembly.out.find("nos_kernel:") != std::string::npos);
  }
#endif
}

TEST_CASE("nosc compile: CUDA targets on every example rule") {
#ifndef NOS_HAVE_CUDA
  MESSAGE("[SKIP] built without the CUDA backend");
  return;
#else
  for (const ExampleRule& rule : example_rules()) {
    INFO(rule.file << " --rule " << rule.name);
    auto cuda = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "cuda", "--dtype", "bf16"});
    CHECK(cuda.exit_code == 0);
    CHECK(cuda.out.find("__global__") != std::string::npos);
    auto ptx = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "ptx", "--arch", "sm_80"});
    CHECK(ptx.exit_code == 0);
    CHECK(ptx.out.find(".entry nos_kernel") != std::string::npos);
    std::string cubin_path = temp_file("kernel.cubin", "");
    auto cubin = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "cubin", "--arch", "sm_90", "-o", cubin_path});
    CHECK(cubin.exit_code == 0);
    std::ifstream in(cubin_path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    CHECK(std::string(magic, 4) == "\x7f" "ELF");
  }
#endif
}

TEST_CASE("nosc eval and explain: every example rule runs on the interpreter") {
  for (const ExampleRule& rule : example_rules()) {
    INFO(rule.file << " --rule " << rule.name);
    auto eval = run_tool("nosc", {"eval", rule.file, "--rule-name", rule.name, "--input", steps_file()});
    CHECK(eval.exit_code == 0);
    CHECK(eval.out.find("\"w\":[") != std::string::npos);
    CHECK(run_tool("nosc", {"explain", rule.file, "--rule-name", rule.name}).exit_code == 0);
  }
}

TEST_CASE("nosc eval: the cpu backend prints exactly what the interpreter prints") {
#ifndef NOS_HAVE_LLVM
  MESSAGE("[SKIP] built without the LLVM backend");
  return;
#else
  for (const char* rule : {"adam", "exp(sign(g) * sign(m)) * g", "drop(m, 0.3) * exp(w) + eps", "(1 + rd * sign_g * sign_m) * g"}) {
    INFO(rule);
    auto interp = run_tool("nosc", {"eval", "-e", rule, "--input", steps_file(), "--seed", "9"});
    auto cpu = run_tool("nosc", {"eval", "-e", rule, "--input", steps_file(), "--seed", "9", "--backend", "cpu"});
    REQUIRE(interp.exit_code == 0);
    REQUIRE(cpu.exit_code == 0);
    CHECK(cpu.out.substr(cpu.out.find("\"hash\"")) == interp.out.substr(interp.out.find("\"hash\"")));
  }
#endif
}

TEST_CASE("nosc verify: every example agrees with the interpreter to the bit") {
  for (const auto& entry : std::filesystem::directory_iterator(source_path("examples"))) {
    if (entry.path().extension() != ".dsl") continue;
    auto r = run_tool("nosc", {"verify", entry.path().string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
#ifdef NOS_HAVE_LLVM
    CHECK(r.out.find("cpu  ok   max difference 0 ulp") != std::string::npos);
#endif
  }
}

TEST_CASE("kernel cache: a second process loads the kernel from disk instead of compiling") {
#ifndef NOS_HAVE_LLVM
  MESSAGE("[SKIP] built without the LLVM backend");
  return;
#else
  std::filesystem::path cache = std::filesystem::path(temp_file("cache-marker", "")).parent_path() / "kernel-cache";
  std::filesystem::remove_all(cache);
  std::vector<std::string> env = {"NOS_CACHE_DIR=" + cache.string(), "NOS_LOG_KERNELS=1"};
  std::vector<std::string> args = {"eval", "-e", "exp(sign(g) * sign(m)) * g", "--backend", "cpu", "--input", steps_file()};
  auto first = run_tool("nosc", args, "", env);
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("cpu") == std::string::npos);  // the log names the backend as llvm
  CHECK(first.err.find("llvm f32: compiled") != std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(cache), std::filesystem::directory_iterator()) == 1);
  auto second = run_tool("nosc", args, "", env);
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("llvm f32: loaded from the disk cache") != std::string::npos);
  CHECK(second.err.find("compiled") == std::string::npos);
  CHECK(second.out == first.out);

  // A damaged entry is a miss, never a crash: the third process compiles again and repairs it.
  for (const auto& entry : std::filesystem::directory_iterator(cache)) std::filesystem::resize_file(entry.path(), 100);
  auto third = run_tool("nosc", args, "", env);
  CHECK(third.exit_code == 0);
  CHECK(third.err.find("llvm f32: compiled") != std::string::npos);
  CHECK(third.out == first.out);
#endif
}

TEST_CASE("nosc compile: a target this build lacks, or a bad dtype, is a usage error") {
  auto dtype = run_tool("nosc", {"compile", "-e", "g", "--dtype", "f64"});
  CHECK(dtype.exit_code == 2);
  CHECK(dtype.err.find("unknown --dtype 'f64'") != std::string::npos);
#ifndef NOS_HAVE_CUDA
  auto cuda = run_tool("nosc", {"compile", "-e", "g", "--target", "cuda"});
  CHECK(cuda.exit_code == 2);
  CHECK(cuda.err.find("NOS_WITH_CUDA=OFF") != std::string::npos);
#endif
}

TEST_CASE("nosc compile: the source targets (pytorch, cpp, cuda-standalone) on every example rule") {
  auto rules = example_rules();
  REQUIRE(rules.size() >= 20);
  for (const ExampleRule& rule : rules) {
    INFO(rule.file << " " << rule.name);
    auto py = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", "pytorch"});
    REQUIRE_MESSAGE(py.exit_code == 0, py.err);
    CHECK(py.out.find("(torch.optim.Optimizer):") != std::string::npos);
    CHECK(py.out.find("#   rule: " + rule.name + ": ") != std::string::npos);  // the named rule is quoted
    for (const char* target : {"cpp", "cuda-standalone"}) {
      auto native = run_tool("nosc", {"compile", rule.file, "--rule-name", rule.name, "--target", target});
#ifdef NOS_HAVE_CUDA
      CHECK_MESSAGE(native.exit_code == 0, native.err);
      CHECK(native.out.find(std::string("// Generated by NOS (--target ") + target + ")") == 0);
#else
      CHECK(native.exit_code == 1);
      CHECK(native.err.find("NOS_WITH_CUDA=OFF") != std::string::npos);
#endif
    }
  }
}

TEST_CASE("nosc compile --target pytorch: -o writes the file whole, --dtype is refused") {
  std::string out = temp_file("rule.py", "old");
  auto written = run_tool("nosc", {"compile", "-e", "adam", "--target", "pytorch", "-o", out});
  REQUIRE_MESSAGE(written.exit_code == 0, written.err);
  CHECK(written.out.empty());
  auto printed = run_tool("nosc", {"compile", "-e", "adam", "--target", "pytorch"});
  std::ifstream in(out);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == printed.out);
  auto bf16 = run_tool("nosc", {"compile", "-e", "adam", "--target", "pytorch", "--dtype", "bf16"});
  CHECK(bf16.exit_code == 2);
  CHECK(bf16.err.find("--dtype bf16: --target pytorch is float32 source") != std::string::npos);
}
