// Numbers out of range in any numeric option of nosc, nos-train and nos-bench (negative, NaN,
// wrapped or saturated) are usage errors naming the option (exit 2), never accepted: CLI11's own
// range checks let NaN through, and its unsigned reading turns -1 into 2^64-1.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_program;
using nos::testing::run_tool;
using nos::testing::ToolResult;

namespace {

[[maybe_unused]] bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


}  // namespace

TEST_CASE("tools: a negative, NaN or too large number in a numeric option is a usage error naming it") {
  struct Case {
    std::string tool;
    std::vector<std::string> args;
    std::string option;
  };
  std::vector<Case> cases;
  for (const char* ulp : {"-1", "nan", "99999999999999999999", "1.5", "0x10"})
    cases.push_back({"nosc", {"verify", "-e", "g", "--max-ulp", ulp}, "--max-ulp"});
#ifdef NOS_HAVE_NOS_TRAIN
  // Data that does not exist: the run fails with exit 1 if the option is let through.
  std::vector<std::string> train{"--rule", "g", "--lr", "0.1", "--data", "/nonexistent.csv"};
  auto with = [](std::vector<std::string> args, std::vector<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  cases.push_back({"nos-train", with(train, {"--time-budget", "nan"}), "--time-budget"});
  cases.push_back({"nos-train", with(train, {"--time-budget", "-1"}), "--time-budget"});
  cases.push_back({"nos-train", with(train, {"--train-subset", "nan"}), "--train-subset"});
  cases.push_back({"nos-train", {"--optimizer", "sgd", "--momentum", "nan", "--lr", "0.1", "--data", "/nonexistent.csv"},
                   "--momentum"});
#endif
#ifdef NOS_HAVE_NOS_BENCH
  cases.push_back({"nos-bench", {"kernels", "--max-seconds", "nan", "--json", "/nonexistent/k.json"}, "--max-seconds"});
  cases.push_back({"nos-bench", {"search", "--time-budget", "nan", "--nos-search", "/nonexistent"}, "--time-budget"});
  cases.push_back({"nos-bench", {"scaling", "--duration", "nan", "--nos-search", "/nonexistent"}, "--duration"});
  cases.push_back({"nos-bench", {"scaling", "--child-seconds", "nan", "--nos-search", "/nonexistent"}, "--child-seconds"});
  cases.push_back({"nos-bench", {"scaling", "--warmup", "nan", "--nos-search", "/nonexistent"}, "--warmup"});
  cases.push_back({"nos-bench", {"scaling", "--startup-timeout", "nan", "--nos-search", "/nonexistent"}, "--startup-timeout"});
  cases.push_back({"nos-bench", {"train", "--train-subset", "nan", "--data", "/nonexistent.csv"}, "--train-subset"});
#endif
  for (const Case& c : cases) {
    CAPTURE(c.tool);
    CAPTURE(c.args);
    ToolResult r = nos::testing::run_tool_bounded(c.tool, c.args);
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(contains(r.err, c.option), r.err);
  }
  // The largest value stays accepted.
  ToolResult max = run_tool("nosc", {"verify", "-e", "g", "--steps", "1", "--max-ulp", "18446744073709551615"});
  CHECK(max.exit_code == 0);
}
