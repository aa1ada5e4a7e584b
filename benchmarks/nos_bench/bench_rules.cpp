#include "benchmarks/nos_bench/bench_rules.h"

#include <charconv>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "dsl/tokens.h"

namespace nos::bench {
namespace {

struct Builtin {
  const char* name;
  Known known;
  const char* text;
};

// LibTorch's RMSprop keeps v with alpha = 0.99 and no bias correction; the rule language says so in
// its `with` clause (docs/dsl.md). Adam's `adam` operand is bias-corrected like torch::optim::Adam.
constexpr Builtin kBuiltins[] = {
    {"sgd", Known::Sgd, "g"},
    {"adam", Known::Adam, "adam"},
    {"rmsprop", Known::Rmsprop, "rmsprop with beta2 = 0.99, bias_correction = off"},
    {"powersign", Known::PowerSign, "exp(sign(g) * sign(m)) * g"},
    {"addsign", Known::AddSign, "(1 + sign(g) * sign(m)) * g"},
};

// An update that ignores the gradient (e.g. `noise / clip(eps, 1e-4)`) is no optimizer, and a
// constant one is no kernel worth timing: random rules must read g, directly or through a state.
bool reads_gradient(const ir::Function& f) {
  for (const ir::Instr& in : f.body)
    if (in.op == ir::Op::Grad || in.op == ir::Op::Mavg) return f.body.at(f.result).type == ir::Type::Elem;
  return false;
}

}  // namespace

const std::vector<std::string>& builtin_rule_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Builtin& b : kBuiltins) v.emplace_back(b.name);
    return v;
  }();
  return names;
}

BenchRule builtin_rule(std::string_view name) {
  for (const Builtin& b : kBuiltins)
    if (name == b.name) return {b.name, b.known, compiler::compile_text(b.text, {.check_non_finite = false})};
  throw std::invalid_argument(fmt::format("unknown rule '{}'", name));
}

BenchRule random_rule(std::uint64_t seed, int groups) {
  std::mt19937_64 rng(seed);
  for (;;) {
    dsl::TokenSequence tokens = dsl::random_tokens(rng, groups);
    compiler::CompiledRule rule = compiler::compile({dsl::to_rule(tokens), nullptr, tokens}, {.check_non_finite = false});
    if (reads_gradient(rule.optimized)) return {fmt::format("random{}", seed), Known::None, std::move(rule)};
  }
}

std::vector<BenchRule> select_rules(const std::vector<std::string>& names, int random_groups) {
  std::vector<BenchRule> rules;
  for (const std::string& name : names) {
    if (name.rfind("random", 0) == 0 && name.size() > 6 &&
        name.find_first_not_of("0123456789", 6) == std::string::npos) {
      std::uint64_t seed = 0;
      auto [end, ec] = std::from_chars(name.data() + 6, name.data() + name.size(), seed);
      if (ec != std::errc() || end != name.data() + name.size())
        throw std::invalid_argument(fmt::format("rule '{}': the seed {} is larger than {}", name, name.substr(6), UINT64_MAX));
      rules.push_back(random_rule(seed, random_groups));
      continue;
    }
    try {
      rules.push_back(builtin_rule(name));
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(fmt::format("unknown rule '{}' (expected one of sgd, adam, rmsprop, powersign, "
                                              "addsign, or randomK for a seeded random rule)",
                                              name));
    }
  }
  return rules;
}

std::vector<BenchRule> given_rules(const std::vector<compiler::RuleSource>& sources) {
  std::vector<BenchRule> rules;
  for (const compiler::RuleSource& source : sources)
    for (compiler::CompiledRule& rule : compiler::compile_all(source))
      rules.push_back({fmt::format("rule{}", rules.size() + 1), Known::None, std::move(rule)});
  return rules;
}

}  // namespace nos::bench
