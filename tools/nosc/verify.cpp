// nosc verify: run a rule on every backend this build and machine have, on random data, and
// compare with the reference interpreter in units in the last place (ulp).
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

#include <fmt/format.h>

#include "tools/nosc/backend_run.h"
#include "tools/nosc/commands.h"
#include "tools/options.h"

namespace nos::nosc {
namespace {

// Distance between two floats in representable steps; NaN matches NaN, NaN vs number is "infinite".
std::uint64_t ulp_distance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : UINT64_MAX;
  auto ordered = [](float x) {
    std::int64_t bits = std::bit_cast<std::int32_t>(x);
    return bits < 0 ? std::int64_t(INT32_MIN) - bits : bits;  // monotone in x; +0 and -0 meet
  };
  std::int64_t d = ordered(a) - ordered(b);
  return static_cast<std::uint64_t>(d < 0 ? -d : d);
}

struct Problem {
  std::vector<TensorData> tensors;
  std::vector<std::vector<std::vector<float>>> grads;
};

// Two tensors of awkward sizes, gradients spanning magnitudes, a zero here and there.
Problem make_problem(std::uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_int_distribution<int> magnitude(-4, 1);
  Problem p;
  for (std::size_t size : {1000u, 4099u}) {
    TensorData t;
    t.tensor_id = static_cast<std::uint32_t>(p.tensors.size());
    for (std::size_t i = 0; i < size; ++i) t.w.push_back(normal(rng));
    p.tensors.push_back(std::move(t));
  }
  for (int k = 0; k < steps; ++k) {
    std::vector<std::vector<float>> step;
    for (const TensorData& t : p.tensors) {
      std::vector<float> g(t.w.size());
      for (std::size_t i = 0; i < g.size(); ++i)
        g[i] = i % 97 == 0 ? 0.0f : normal(rng) * std::pow(10.0f, static_cast<float>(magnitude(rng)));
      step.push_back(std::move(g));
    }
    p.grads.push_back(std::move(step));
  }
  return p;
}

std::uint64_t max_ulp(const std::vector<TensorData>& a, const std::vector<TensorData>& b) {
  std::uint64_t worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t k = 0; k < a[i].w.size(); ++k) worst = std::max(worst, ulp_distance(a[i].w[k], b[i].w[k]));
    for (std::size_t s = 0; s < a[i].states.size(); ++s)
      for (std::size_t k = 0; k < a[i].states[s].size(); ++k)
        worst = std::max(worst, ulp_distance(a[i].states[s][k], b[i].states[s][k]));
  }
  return worst;
}

}  // namespace

void add_verify_command(CLI::App& app, Runner& run) {
  struct Options {
    tool::RuleOptions input;
    std::uint64_t seed = 1;
    int steps = 5;
    std::uint64_t max_ulp = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("verify", "Check every available backend against the interpreter, in ulps");
  add_rule_input(*cmd, o->input);
  tool::add_seed_option(*cmd, "--seed", o->seed, "seed of the random data and of the rule's random streams");
  cmd->add_option("--steps", o->steps, "optimizer steps to run")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--max-ulp", o->max_ulp, "largest difference accepted (exit 1 beyond it)")
      ->check(tool::unsigned_validator())
      ->capture_default_str();
  cmd->callback([&run, o] {
    run = [o] {
      bool all_ok = true;
      for (const compiler::CompiledRule& rule : compiler::compile_all(o->input.source(), {.check_non_finite = false})) {
        const ir::Function& f = rule.optimized;
        Problem problem = make_problem(o->seed, o->steps);
        StepPlan plan{0.01f, static_cast<std::uint32_t>(2 * o->steps), o->seed};
        std::vector<TensorData> reference = problem.tensors;
        run_steps(f, codegen::Backend::Interp, plan, reference, problem.grads);
        fmt::print("{}:\n", rule.display_name());
        for (codegen::Backend backend : {codegen::Backend::Cpu, codegen::Backend::Cuda}) {
          std::string why;
          if (!codegen::backend_available(backend, &why)) {
            fmt::print("  {:<5}skipped ({})\n", codegen::name(backend), why);
            continue;
          }
          std::vector<TensorData> tensors = problem.tensors;
          run_steps(f, backend, plan, tensors, problem.grads);
          std::uint64_t worst = max_ulp(reference, tensors);
          bool ok = worst <= o->max_ulp;
          all_ok &= ok;
          fmt::print("  {:<5}{} max difference {} over {} steps, 5099 elements, w and {} state buffers\n",
                     codegen::name(backend), ok ? "ok  " : "FAIL",
                     worst == UINT64_MAX ? std::string("NaN vs number") : fmt::format("{} ulp", worst), o->steps,
                     f.states.size());
        }
      }
      return all_ok ? int(kOk) : int(kInvalid);
    };
  });
}

}  // namespace nos::nosc
