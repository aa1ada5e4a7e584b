// The rules nos-bench measures: the classic optimizers written in the rule language (so NOS and
// LibTorch compute the same update), PowerSign and AddSign, and seeded random rules drawn like the
// controller's exploration baseline. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/compile.h"

namespace nos::bench {

// Hyperparameters shared by every implementation of a rule, so NOS, LibTorch and the hand-written
// ATen versions do the same arithmetic. They equal the rule language's defaults.
struct Hyper {
  static constexpr double lr = 1e-3;
  static constexpr double beta1 = 0.9, beta2 = 0.999;  // m, v
  static constexpr double rmsprop_alpha = 0.99;        // LibTorch RMSprop's decay of v
  static constexpr double eps = 1e-8;                  // adam_eps
  // Rules that read T (ld, cd, rd) need it; long enough that no benchmark reaches it.
  static constexpr std::int64_t total_steps = 1'000'000;
};

// Which hand-written baselines exist for a rule: LibTorch has sgd/adam/rmsprop, the ATen eager
// versions cover the five named rules; every other rule is run op by op from its IR (aten_ir.cpp).
enum class Known { None, Sgd, Adam, Rmsprop, PowerSign, AddSign };

struct BenchRule {
  std::string name;            // "adam", "random3", or "rule1" for --rule
  Known known = Known::None;
  compiler::CompiledRule rule;  // its canonical text, optimized IR and hash
};

// sgd adam rmsprop powersign addsign, in that order.
const std::vector<std::string>& builtin_rule_names();
// Throws std::invalid_argument for a name that is not built in.
BenchRule builtin_rule(std::string_view name);

// A rule of `groups` token groups drawn from dsl::random_tokens with std::mt19937_64(seed). Draws
// whose optimized update ignores the gradient (reads neither g nor a moving average of it) are
// redrawn from the same generator, so the seed still decides the rule.
BenchRule random_rule(std::uint64_t seed, int groups);

// Expands a --rules list: built-in names, and "randomK" for random_rule(K, groups). Throws
// std::invalid_argument for anything else.
std::vector<BenchRule> select_rules(const std::vector<std::string>& names, int random_groups);

// The rules given with --rule / -e / --tokens (tools/rule_options.h), named rule1, rule2, ... in
// order; a file without --rule-name gives all its rules. Throws dsl::Error for an invalid rule.
std::vector<BenchRule> given_rules(const std::vector<compiler::RuleSource>& sources);

}  // namespace nos::bench
