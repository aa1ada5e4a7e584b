// nosc eval: run a rule over a few steps of given gradients and print the final parameters.
// This is the contract every backend is checked through:
//   STEPS.json = {"lr": 0.01, "total_steps": 100, "w": [...], "grads": [[...], ...]}
// applies w <- w - lr * delta once per entry of "grads" (t = 1, 2, ...; T = total_steps).
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/codegen/kernel_abi.h"
#include "tools/nosc/backend_run.h"
#include "tools/nosc/commands.h"
#include "dsl/source_file.h"
#include "tools/options.h"

namespace nos::nosc {
namespace {

struct Steps {
  float lr = 0;
  std::uint32_t total_steps = 0;
  std::vector<float> w;
  std::vector<std::vector<float>> grads;
};

// Input-file problems are reported like rule errors: the file, the field, what was expected.
[[noreturn]] void bad_input(const std::string& file, const std::string& what) {
  throw dsl::Error({dsl::Severity::Error, nullptr, {}, fmt::format("{}: {}", file, what)});
}

float to_float(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_number()) bad_input(file, fmt::format("{} must be a number, got {}", where, value.type_name()));
  double d = value.get<double>();
  if (std::isfinite(d) && std::abs(d) > std::numeric_limits<float>::max())
    bad_input(file, fmt::format("{} = {} does not fit in float32", where, value.dump()));
  return static_cast<float>(d);
}

std::vector<float> to_floats(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_array()) bad_input(file, where + " must be an array of numbers");
  std::vector<float> out;
  for (std::size_t i = 0; i < value.size(); ++i) out.push_back(to_float(value[i], file, fmt::format("{}[{}]", where, i)));
  return out;
}

// STEPS.json is a test contract of a few steps over a few values; the cap keeps the JSON tree
// nlohmann builds (about 16 bytes per number, ~10x the text) to a few hundred MB at most.
constexpr std::size_t kMaxStepsBytes = std::size_t{16} << 20;

nlohmann::json read_json(const std::string& file) {
  std::string text = dsl::read_file(file, kMaxStepsBytes, "STEPS.json file");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers beyond double (1e400)
    bad_input(file, fmt::format("not valid JSON: {}", e.what()));
  }
}

Steps read_steps(const std::string& file) {
  nlohmann::json j = read_json(file);
  if (!j.is_object()) bad_input(file, "expected an object with \"lr\", \"total_steps\", \"w\", \"grads\"");
  for (const char* key : {"lr", "total_steps", "w", "grads"})
    if (!j.contains(key)) bad_input(file, fmt::format("missing \"{}\"", key));
  Steps steps;
  if (!j["lr"].is_number()) bad_input(file, "\"lr\" must be a number");
  if (std::string problem = codegen::learning_rate_problem(j["lr"].get<double>()); !problem.empty())
    bad_input(file, fmt::format("\"lr\" = {} {}", j["lr"].dump(), problem));
  steps.lr = static_cast<float>(j["lr"].get<double>());
  const nlohmann::json& total = j["total_steps"];
  if (!total.is_number_unsigned() || total.get<std::uint64_t>() < 1 ||
      total.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max())
    bad_input(file, fmt::format("\"total_steps\" must be an integer from 1 to {}, got {}",
                                std::numeric_limits<std::uint32_t>::max(), total.dump()));
  steps.total_steps = total.get<std::uint32_t>();
  steps.w = to_floats(j["w"], file, "\"w\"");
  if (!j["grads"].is_array()) bad_input(file, "\"grads\" must be an array of arrays");
  // Steps past T would run the decays (ld, cd, rd) below zero: T counts every step given.
  if (j["grads"].size() > steps.total_steps)
    bad_input(file, fmt::format("\"grads\" holds {} steps, more than \"total_steps\" = {}", j["grads"].size(),
                                steps.total_steps));
  for (std::size_t k = 0; k < j["grads"].size(); ++k) {
    std::string where = fmt::format("\"grads\"[{}]", k);
    steps.grads.push_back(to_floats(j["grads"][k], file, where));
    if (steps.grads.back().size() != steps.w.size())
      bad_input(file, fmt::format("{} has {} values but \"w\" has {}", where, steps.grads.back().size(), steps.w.size()));
  }
  return steps;
}

nlohmann::json float_array(const std::vector<float>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (float v : values) {
    if (std::isfinite(v))
      out.push_back(static_cast<double>(v));
    else
      out.push_back(std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));  // JSON has no NaN/inf
  }
  return out;
}

}  // namespace

void add_eval_command(CLI::App& app, Runner& run) {
  struct Options {
    tool::RuleOptions input;
    std::string steps_file;
    std::string backend = "interp";
    std::uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("eval", "Apply a rule to given gradients; print the final parameters as JSON");
  add_rule_input(*cmd, o->input);
  cmd->add_option("--input", o->steps_file,
                  "STEPS.json (a regular file of at most 16 MiB): {\"lr\": 0.01, \"total_steps\": 100, \"w\": [...], "
                  "\"grads\": [[...], ...]}")
      ->required();
  cmd->add_option("--backend", o->backend, "interp (reference interpreter), cpu (LLVM JIT) or cuda")
      ->check(CLI::IsMember({"interp", "cpu", "cuda"}))
      ->capture_default_str();
  tool::add_seed_option(*cmd, "--seed", o->seed, "seed of the random streams (drop, eps, noise)");
  cmd->callback([&run, o] {
    run = [o] {
      compiler::CompiledRule rule = compiler::compile_one(o->input.source());
      tool::print_warnings(rule);
      const ir::Function& f = rule.optimized;
      Steps steps = read_steps(o->steps_file);
      codegen::Backend backend = *codegen::parse_backend(o->backend);
      std::string why;
      if (!codegen::backend_available(backend, &why)) throw UsageError("--backend " + o->backend + ": " + why);
      std::vector<TensorData> tensors{{steps.w, {}, 0}};
      std::vector<std::vector<std::vector<float>>> grads;
      for (const std::vector<float>& g : steps.grads) grads.push_back({g});
      run_steps(f, backend, {steps.lr, steps.total_steps, o->seed}, tensors, grads);
      steps.w = tensors[0].w;
      nlohmann::json out = {{"rule", rule.display_name()},
                            {"hash", rule.hash_hex()},
                            {"backend", o->backend},
                            {"steps", steps.grads.size()},
                            {"w", float_array(steps.w)}};
      fmt::print("{}\n", out.dump());
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
