// Rules the CUDA backend tests run: named rules written in the DSL, hand-built IR that the
// optimizer would never produce (dead steps, unread state, non-finite constants), and seeded random
// token sequences, all as the real pipeline produces them (parse/tokens -> lower -> optimize).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir.h"

namespace nos::test {

struct TestRule {
  std::string label;  // the DSL text or token sequence, for failure messages
  ir::Function f;
};

TestRule compile_text(const std::string& text);     // parse_rule -> lower -> optimize
std::vector<TestRule> named_rules();                // DSL.md's examples and every operand/function
std::vector<TestRule> unoptimized_rules();          // built with ir::Builder, not optimized
// `count` random token sequences of min_groups..max_groups groups, lowered and optimized.
std::vector<TestRule> random_rules(std::uint64_t seed, int count, int min_groups, int max_groups);

}  // namespace nos::test
