// nosc eval: run a rule over a few steps of given gradients and print the final parameters.
// This is the contract every backend is checked through:
//   STEPS.json = {"lr": 0.01, "total_steps": 100, "w": [...], "grads": [[...], ...]}
// applies w <- w - lr * delta once per entry of "grads" (t = 1, 2, ...; T = total_steps).
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>

#include <nlohmann/json.hpp>

#include "compiler/nosc/backend_run.h"
#include "compiler/nosc/commands.h"
#include "compiler/passes.h"

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
  throw dsl::Error({dsl::Severity::Error, nullptr, {}, file + ": " + what});
}

float to_float(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_number()) bad_input(file, where + " must be a number, got " + std::string(value.type_name()));
  double d = value.get<double>();
  if (std::isfinite(d) && std::abs(d) > std::numeric_limits<float>::max())
    bad_input(file, where + " = " + value.dump() + " does not fit in float32");
  return static_cast<float>(d);
}

std::vector<float> to_floats(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_array()) bad_input(file, where + " must be an array of numbers");
  std::vector<float> out;
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(to_float(value[i], file, where + "[" + std::to_string(i) + "]"));
  return out;
}

Steps read_steps(const std::string& file) {
  std::ifstream in(file);
  if (!in) bad_input(file, "cannot open the file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    bad_input(file, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad_input(file, "expected an object with \"lr\", \"total_steps\", \"w\", \"grads\"");
  for (const char* key : {"lr", "total_steps", "w", "grads"})
    if (!j.contains(key)) bad_input(file, std::string("missing \"") + key + "\"");
  Steps steps;
  steps.lr = to_float(j["lr"], file, "\"lr\"");
  if (!j["total_steps"].is_number_integer() || j["total_steps"].get<long long>() < 1 ||
      j["total_steps"].get<long long>() > std::numeric_limits<std::uint32_t>::max())
    bad_input(file, "\"total_steps\" must be a positive integer");
  steps.total_steps = j["total_steps"].get<std::uint32_t>();
  steps.w = to_floats(j["w"], file, "\"w\"");
  if (!j["grads"].is_array()) bad_input(file, "\"grads\" must be an array of arrays");
  for (std::size_t k = 0; k < j["grads"].size(); ++k) {
    std::string where = "\"grads\"[" + std::to_string(k) + "]";
    steps.grads.push_back(to_floats(j["grads"][k], file, where));
    if (steps.grads.back().size() != steps.w.size())
      bad_input(file, where + " has " + std::to_string(steps.grads.back().size()) + " values but \"w\" has " +
                          std::to_string(steps.w.size()));
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
    RuleInput input;
    std::string steps_file;
    std::string backend = "interp";
    std::uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("eval", "Apply a rule to given gradients; print the final parameters as JSON");
  o->input.add_options(*cmd, true);
  cmd->add_option("--input", o->steps_file,
                  "STEPS.json: {\"lr\": 0.01, \"total_steps\": 100, \"w\": [...], \"grads\": [[...], ...]}")
      ->required();
  cmd->add_option("--backend", o->backend, "interp (reference interpreter), cpu (LLVM JIT) or cuda")
      ->check(CLI::IsMember({"interp", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random streams (drop, eps, noise)")->capture_default_str();
  cmd->callback([&run, o] {
    run = [o] {
      LoadedRule loaded = load_one_rule(o->input);
      ir::Function f = compile_rule(loaded, true);
      Steps steps = read_steps(o->steps_file);
      codegen::Backend backend = *codegen::parse_backend(o->backend);
      std::string why;
      if (!codegen::backend_available(backend, &why)) throw UsageError("--backend " + o->backend + ": " + why);
      std::vector<TensorData> tensors{{steps.w, {}, 0}};
      std::vector<std::vector<std::vector<float>>> grads;
      for (const std::vector<float>& g : steps.grads) grads.push_back({g});
      run_steps(f, backend, {steps.lr, steps.total_steps, o->seed}, tensors, grads);
      steps.w = tensors[0].w;
      nlohmann::json out = {{"rule", display_name(loaded.rule)},
                            {"hash", ir::hash_hex(ir::canonical_hash(f))},
                            {"backend", o->backend},
                            {"steps", steps.grads.size()},
                            {"w", float_array(steps.w)}};
      std::cout << out.dump() << '\n';
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
