// nosc on hostile inputs, end to end: anything but a regular file is refused before it is opened,
// rule sources and STEPS.json have size limits, and every error stays short. Each run goes
// through timeout(1), so a regression (a FIFO that blocks, /dev/zero read forever) fails instead
// of hanging the suite.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_program;
using nos::testing::temp_file;
using nos::testing::ToolResult;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ToolResult nosc(const std::vector<std::string>& args) { return nos::testing::run_tool_bounded("nosc", args, 20); }

// The largest resident size of any child waited for so far, in MiB.
long children_max_rss_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_maxrss / 1024;
}

const char* kSteps = R"({"lr": 0.1, "total_steps": 3, "w": [1, 2], "grads": [[1, 1]]})";

}  // namespace

TEST_CASE("nosc: a FIFO or a device as the rule file or STEPS.json exits 1 at once, naming it") {
  std::string fifo = temp_file("rules.fifo", "");
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string steps = temp_file("steps.json", kSteps);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"check", "/dev/zero"}, "cannot open '/dev/zero': it is a character device; a rule file must be a regular file"},
           {{"check", fifo}, "cannot open '" + fifo + "': it is a FIFO (named pipe); a rule file must be a regular file"},
           {{"fmt", "--rule", fifo}, "cannot open '" + fifo + "': it is a FIFO"},
           {{"explain", "--rule", "/dev/zero"}, "cannot open '/dev/zero': it is a character device"},
           {{"eval", "-e", "g", "--input", "/dev/zero"}, "cannot open '/dev/zero': it is a character device; a STEPS.json file"},
           {{"eval", "-e", "g", "--input", fifo}, "cannot open '" + fifo + "': it is a FIFO"},
       }) {
    CAPTURE(c.args);
    ToolResult r = nosc(c.args);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.err, c.says), r.err);
  }
  std::filesystem::remove(fifo);
}

TEST_CASE("nosc: a rule file over 1 MiB, or STEPS.json over 16 MiB, exits 1 before it is read") {
  std::string big = temp_file("big.dsl", std::string(3 << 20, '(') + "g");
  ToolResult r = nosc({"check", big});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "'" + big + "' is 3145729 bytes; a rule file holds at most 1 MiB (1048576 bytes)"));
  std::string huge_steps = temp_file("huge.json", std::string(17 << 20, ' ') + kSteps);
  r = nosc({"eval", "-e", "g", "--input", huge_steps});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "a STEPS.json file holds at most 16 MiB"));
}

TEST_CASE("nosc: the largest rule file a hostile user can give fails fast, in bounded memory, with a short error") {
  // A one-line rule of 1 MiB nested too deeply (50 MB reached 1.7 GB before the error), and a
  // name of almost 1 MiB (the error once quoted it twice: the message and the line).
  std::string deep = temp_file("deep.dsl", std::string((1 << 20) - 1, '(') + "g");
  ToolResult r = nosc({"check", deep});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "expression nested too deeply"));
  CHECK(r.err.size() < 3000);
  std::string long_name = temp_file("name.dsl", "g * " + std::string((1 << 20) - 10, 'x'));
  r = nosc({"check", long_name});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "unknown name 'xxx"));
  CHECK(r.err.size() < 3000);
  CHECK(children_max_rss_mib() < 400);
}

TEST_CASE("nosc: a rule file holds at most 10,000 rules, and eval's 'pick one' lists a few names") {
  std::string rules;
  for (int k = 1; k <= 10000; ++k) rules += "rule" + std::to_string(k) + ": g * " + std::to_string(k) + "\n";
  std::string file = temp_file("many.dsl", rules);
  std::string steps = temp_file("steps.json", kSteps);
  ToolResult r = nosc({"eval", file, "--input", steps});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "holds 10000 rules; pick one by name (--rule-name): rule1 rule2"));
  CHECK(contains(r.err, "rule20 ... and 9980 more"));
  CHECK(r.err.size() < 1000);
  r = nosc({"eval", file, "--rule-name", "rule9999", "--input", steps});
  CHECK(r.exit_code == 0);

  std::string over = temp_file("over.dsl", rules + "extra: m\n");
  r = nosc({"fmt", over});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, over + ":10001:1: error: rule 10001 is one too many: a rule source holds at most 10000 rules"));
  CHECK(r.out.empty());
}
