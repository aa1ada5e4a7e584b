// The source targets of compiler/emit (what nosc compile --target pytorch|cpp|cuda-standalone and
// nos-search export write): the PyTorch optimizer against the interpreter (where a python with
// torch exists: NOS_PYTHON, default python3), valid Python everywhere, the C++ source bit for bit,
// the CUDA source through NVRTC.
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "compiler/emit/emit.h"
#include "compiler/interpreter.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "compiler/printer.h"
#include "dsl/tokens.h"
#include "tests/search/temp_dir.h"

#ifdef NOS_HAVE_CUDA_CODEGEN
#include "compiler/codegen/cuda/nvrtc.h"
#endif

namespace nos::compiler {
namespace {

using search::testing::TempDir;

ir::Function compile(const std::string& text) { return compile_text(text).optimized; }
std::string emit(const std::string& text, EmitTarget target, const std::string& name = "") {
  return compiler::emit(compile_text(text), target, {name});
}

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

std::string python() {
  const char* env = std::getenv("NOS_PYTHON");
  return env && *env ? env : "python3";
}

// Deterministic rules: the PyTorch export must match the interpreter on these.
const char* const kDeterministic[] = {
    "adam",
    "exp(sign(g) * sign(m)) * g",                       // PowerSign
    "g",
    "rmsprop with beta2 = 0.99, bias_correction = off", // LibTorch's RMSprop
    "adam * ld",
    "m * cd + sign(v) * rd * 0.001",
    "clip(y, 0.001) + 1e-4 * w",
    "(1 + sign(g) * sign(m)) * g",
    "pow(g, 0.5) * log(v + 1)",
    "adam with beta1 = 0.8, beta2 = 0.99",
};
// Rules with random draws: same distributions, not the same numbers.
const char* const kRandom[] = {"adam + eps", "drop(g, 0.3)", "g + noise * 0.001", "drop(m, 0.1) * exp(eps)"};

struct Trajectory {
  std::vector<float> w0;
  std::vector<std::vector<float>> g;  // [step][element]
};

Trajectory make_trajectory(std::size_t n, int steps, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  Trajectory tr;
  for (std::size_t i = 0; i < n; ++i) tr.w0.push_back(normal(rng));
  for (int t = 0; t < steps; ++t) {
    std::vector<float> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = 0.1f * normal(rng) + 0.05f * tr.w0[i];
    tr.g.push_back(g);
  }
  return tr;
}

std::vector<float> interpret(const ir::Function& f, const Trajectory& tr, float lr, std::uint64_t seed) {
  std::vector<float> w = tr.w0;
  std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(w.size(), 0.0f));
  std::vector<float*> pointers;
  for (auto& s : states) pointers.push_back(s.data());
  const auto steps = static_cast<std::uint32_t>(tr.g.size());
  for (std::uint32_t t = 1; t <= steps; ++t)
    ir::interpret_step(f, {t, steps, lr, seed, 0}, w.data(), tr.g[t - 1].data(), pointers, w.size());
  return w;
}

constexpr const char* kDriver = R"PY(
import importlib.util, json, sys
import torch

data = json.load(open(sys.argv[1]))
out = []
for case in data["cases"]:
    spec = importlib.util.spec_from_file_location("rule", case["module"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = getattr(module, case["class"])
    p = torch.nn.Parameter(torch.tensor(data["w0"], dtype=torch.float32))
    opt = cls([p], lr=data["lr"], total_steps=len(data["g"]))
    for g in data["g"]:
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    out.append(p.detach().tolist())
# A rule that reads T refuses to be built without it.
try:
    spec = importlib.util.spec_from_file_location("decay", data["decay_module"])
    decay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(decay)
    decay.Decayed([torch.nn.Parameter(torch.zeros(3))], lr=0.1)
    refused = ""
except ValueError as e:
    refused = str(e)
json.dump({"w": out, "refused": refused}, open(sys.argv[2], "w"))
)PY";

}  // namespace

TEST_CASE("emit: targets by name") {
  CHECK(parse_emit_target("pytorch") == EmitTarget::PyTorch);
  CHECK(parse_emit_target("cpp") == EmitTarget::Cpp);
  CHECK(parse_emit_target("cuda-standalone") == EmitTarget::CudaStandalone);
  CHECK(!parse_emit_target("cuda"));  // nosc compile's bare kernel, not a source target
  CHECK(!parse_emit_target("jax"));
  CHECK(std::string(file_extension(EmitTarget::CudaStandalone)) == ".cu");
  CHECK(std::string(name(EmitTarget::CudaStandalone)) == "cuda-standalone");
  CHECK_THROWS_AS(emit("g", EmitTarget::PyTorch, "not a name"), std::invalid_argument);
}

// Every function's `pytorch` spelling (dsl/functions.def) reaches the output, its arguments in
// place: one rule per function, the spelling's head found in the emitted statement.
TEST_CASE("emit: every function row is spelled by its pytorch column") {
  const std::vector<std::pair<const char*, const char*>> uses = {
      {"-exp(g)", " = -x"},           {"exp(g)", "torch.exp(x"},  {"log(g)", "torch.log(torch.abs(x"},
      {"sqrt(g)", "torch.sqrt(torch.abs(x"}, {"clip(g, 0.5)", "_clip(x"}, {"drop(g, 0.3)", "_drop(x"},
      {"sign(g)", "_sign(x"},     {"g + m", " + x"},          {"g - m", " - x"},
      {"g * m", " * x"},          {"div(g, m, 0.25)", " / (x"}, {"pow(g, m)", "_pow(x"}};
  for (auto [rule, spelled] : uses) {
    CHECK_MESSAGE(emit(rule, EmitTarget::PyTorch).find(spelled) != std::string::npos, std::string(rule));
  }
  CHECK(emit("div(g, m, 0.25)", EmitTarget::PyTorch).find("+ _f32(0.25, dev))") != std::string::npos);
  CHECK(emit("drop(g, 0.3)", EmitTarget::PyTorch).find(", draw[") != std::string::npos);
}

TEST_CASE("emit: the PyTorch optimizer is valid Python for the classic rules and random ones") {
  if (run_command(python() + " -c 'import py_compile'").status != 0) {
    MESSAGE("[SKIP] no " << python() << " to check the generated Python with");
    return;
  }
  TempDir dir;
  std::vector<std::string> rules(std::begin(kDeterministic), std::end(kDeterministic));
  rules.insert(rules.end(), std::begin(kRandom), std::end(kRandom));
  std::mt19937_64 rng(11);
  for (int i = 0; i < 40; ++i) rules.push_back(ir::to_text(ir::optimize(ir::lower(dsl::to_rule(dsl::random_tokens(rng, 1 + i % 3))))));
  std::string files;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    CompiledRule rule = compile_text(rules[i]);
    const ir::Function& f = rule.optimized;
    std::string source = compiler::emit(rule, EmitTarget::PyTorch);
    CHECK(source.find("class NosRule_" + ir::hash_hex(ir::canonical_hash(f)) + "(torch.optim.Optimizer):") !=
          std::string::npos);
    CHECK(source.find("#   rule: " + rule.text + "\n") != std::string::npos);  // the rule is quoted
    CHECK((source.find("pass total_steps") != std::string::npos) == ir::needs_total_steps(f));
    std::string path = dir.file("rule" + std::to_string(i) + ".py");
    std::ofstream(path) << source;
    files += " " + path;
  }
  CommandResult r = run_command(python() + " -m py_compile" + files);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("emit: the PyTorch optimizer matches the interpreter over 20 steps") {
  if (run_command(python() + " -c 'import torch'").status != 0) {
    MESSAGE("[SKIP] " << python() << " cannot import torch (set NOS_PYTHON to a python that can)");
    return;
  }
  TempDir dir;
  const Trajectory tr = make_trajectory(64, 20, 5);
  const float lr = 0.01f;
  nlohmann::json input = {{"w0", tr.w0}, {"g", tr.g}, {"lr", lr}, {"cases", nlohmann::json::array()}};
  std::vector<std::string> rules(std::begin(kDeterministic), std::end(kDeterministic));
  rules.insert(rules.end(), std::begin(kRandom), std::end(kRandom));
  for (std::size_t i = 0; i < rules.size(); ++i) {
    std::string module = dir.file("rule" + std::to_string(i) + ".py");
    std::ofstream(module) << emit(rules[i], EmitTarget::PyTorch, "Rule");
    input["cases"].push_back({{"module", module}, {"class", "Rule"}});
  }
  input["decay_module"] = dir.file("decay.py");
  std::ofstream(dir.file("decay.py")) << emit("adam * cd", EmitTarget::PyTorch, "Decayed");
  std::ofstream(dir.file("input.json")) << input.dump();
  std::ofstream(dir.file("driver.py")) << kDriver;
  CommandResult r = run_command(python() + " " + dir.file("driver.py") + " " + dir.file("input.json") + " " +
                                dir.file("output.json"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  nlohmann::json output = nlohmann::json::parse(std::ifstream(dir.file("output.json")));
  CHECK(output["refused"].get<std::string>().find("pass total_steps") != std::string::npos);

  for (std::size_t i = 0; i < rules.size(); ++i) {
    const bool random = i >= std::size(kDeterministic);
    std::vector<float> torch_w = output["w"][i].get<std::vector<float>>();
    std::vector<float> nos_w = interpret(compile(rules[i]), tr, lr, 0);
    REQUIRE(torch_w.size() == nos_w.size());
    double worst = 0, moved = 0;
    int identical = 0;
    for (std::size_t k = 0; k < nos_w.size(); ++k) {
      CHECK(std::isfinite(torch_w[k]));
      worst = std::max(worst, static_cast<double>(std::fabs(torch_w[k] - nos_w[k])));
      moved = std::max(moved, static_cast<double>(std::fabs(nos_w[k] - tr.w0[k])));
      identical += std::bit_cast<std::uint32_t>(torch_w[k]) == std::bit_cast<std::uint32_t>(nos_w[k]);
    }
    MESSAGE(rules[i] << ": max |w_torch - w_nos| = " << worst << " (the rule moved w by up to " << moved << "), "
                     << identical << "/" << nos_w.size() << " bit-identical");
    CHECK(moved > 1e-4);  // every rule really moved w
    if (!random) CHECK(worst <= 1e-5 * std::max(1.0, moved));
    else CHECK(worst <= 2 * moved);  // other draws: the same scale of movement, nothing more
  }
}

#ifdef NOS_HAVE_CUDA_CODEGEN
TEST_CASE("emit: the cpp source compiles standalone and matches the interpreter bit for bit") {
  TempDir dir;
  const Trajectory tr = make_trajectory(100, 20, 9);
  const float lr = 0.01f;
  const std::uint64_t seed = 42;
  // Decays, every state, lookups, pow and log, and the counter-based draws (the same as NOS's here).
  const std::vector<std::string> rules = {"adam", "exp(sign(g) * sign(m)) * g", "m * cd + sign(v) * rd * 0.001",
                                          "clip(y, 0.001) + 1e-4 * w", "pow(g, 0.5) * log(v + 1)", "adam * ld + eps",
                                          "drop(m, 0.1) * exp(eps)", "g + noise * 0.001"};
  for (std::size_t r = 0; r < rules.size(); ++r) {
    INFO(rules[r]);
    ir::Function f = compile(rules[r]);
    std::string cpp = dir.file("rule" + std::to_string(r) + ".cpp"), so = dir.file("rule" + std::to_string(r) + ".so");
    std::ofstream(cpp) << emit(rules[r], EmitTarget::Cpp, "exported");
    CommandResult built = run_command(std::string(NOS_CXX_COMPILER) + " -std=c++17 -O1 -ffp-contract=off -Wall -Werror "
                                      "-fPIC -shared -o " + so + " " + cpp);
    REQUIRE_MESSAGE(built.status == 0, built.output);
    void* library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    REQUIRE(library);
    using Update = void (*)(float*, const float*, float* const*, long long, float, unsigned, unsigned,
                            unsigned long long, unsigned);
    auto update = reinterpret_cast<Update>(dlsym(library, "exported_update"));
    REQUIRE(reinterpret_cast<void*>(update) != nullptr);
    std::vector<float> w = tr.w0;
    std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(w.size(), 0.0f));
    std::vector<float*> pointers;
    for (auto& s : states) pointers.push_back(s.data());
    for (unsigned t = 1; t <= 20; ++t)
      update(w.data(), tr.g[t - 1].data(), pointers.data(), static_cast<long long>(w.size()), lr, t, 20, seed, 0);
    dlclose(library);
    std::vector<float> expected = interpret(f, tr, lr, seed);
    int differing = 0;
    for (std::size_t k = 0; k < w.size(); ++k)
      differing += std::bit_cast<std::uint32_t>(w[k]) != std::bit_cast<std::uint32_t>(expected[k]);
    CHECK(differing == 0);
  }
}

TEST_CASE("emit: the cuda-standalone source is a kernel NVRTC compiles") {
  for (const char* rule : {"adam", "exp(sign(g) * sign(m)) * g", "drop(m, 0.1) * exp(eps) * ld"}) {
    INFO(rule);
    std::string source = emit(rule, EmitTarget::CudaStandalone, "found_rule");
    CHECK(source.find("extern \"C\" __global__ void found_rule(") != std::string::npos);
    CHECK(source.find("// Generated by NOS") == 0);
    codegen::cuda::CompiledImage image = codegen::cuda::compile(source, "sm_90", codegen::cuda::ImageKind::Ptx);
    CHECK(image.image.find("found_rule") != std::string::npos);
  }
}
#endif

}  // namespace nos::compiler
