// The classes of plain input mistakes that once ended as "internal error" (exit 3) or were
// accepted silently, one test per class, through the shared tool main loop and option checks:
// output that cannot be written, numbers out of range, directories given as files, GPU
// architectures, seeds, step counts and learning rates.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "run_tool.h"

using nos::testing::run_tool;
using nos::testing::run_tool_to;
using nos::testing::source_path;
using nos::testing::temp_file;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string steps(const std::string& name, const std::string& json) { return temp_file(name, json); }

const char* kGoodSteps = R"({"lr": 0.1, "total_steps": 3, "w": [1, 2], "grads": [[1, 1]]})";

}  // namespace

TEST_CASE("tools: output that cannot be written exits 1, never 0") {
  // A short report stays in stdout's buffer until exit; a long one fails inside a write.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", "-e", "g"}, {"explain", source_path("examples/powersign.dsl")},
        {"--help"}, {"eval", "-e", "g", "--input", steps("ok.json", kGoodSteps)}}) {
    INFO(args.front());
    auto r = run_tool_to("/dev/full", "nosc", args);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "No space left on device"));
  }
#ifdef NOS_HAVE_LLVM  // without a backend, nosc compile has nothing to write
  std::string dir = std::filesystem::path(temp_file("dir-probe", "")).parent_path().string();
  auto to_dir = run_tool("nosc", {"compile", "-e", "g", "-o", dir});
  CHECK(to_dir.exit_code == 1);
  CHECK(contains(to_dir.err, "-o: cannot write '" + dir + "'"));
#endif
}

TEST_CASE("tools: numbers out of range in a JSON input exit 1 naming the file") {
  for (const char* json : {R"({"lr": 1e400, "total_steps": 3, "w": [1], "grads": [[1]]})",
                           R"({"lr": 0.1, "total_steps": 1e400, "w": [1], "grads": [[1]]})",
                           R"({"lr": 0.1, "total_steps": 3, "w": [-1e999], "grads": [[1]]})"}) {
    INFO(json);
    std::string file = steps("range.json", json);
    auto r = run_tool("nosc", {"eval", "-e", "g", "--input", file});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, file + ": not valid JSON"));
  }
  auto huge_t = run_tool("nosc", {"eval", "-e", "g", "--input",
                                  steps("t.json", R"({"lr": 0.1, "total_steps": 18446744073709551615, "w": [1], "grads": [[1]]})")});
  CHECK(huge_t.exit_code == 1);
  CHECK(contains(huge_t.err, "\"total_steps\" must be an integer from 1 to 4294967295"));
}

TEST_CASE("tools: a directory given as a file exits 1 naming it") {
  std::string dir = std::filesystem::path(temp_file("dir-probe", "")).parent_path().string();
  auto rule = run_tool("nosc", {"check", dir});
  CHECK(rule.exit_code == 1);
  CHECK(contains(rule.err, dir));
  auto rule_option = run_tool("nosc", {"check", "--rule", dir});
  CHECK(rule_option.exit_code == 1);
  CHECK(contains(rule_option.err, "cannot open '" + dir + "': Is a directory"));
  auto input = run_tool("nosc", {"eval", "-e", "g", "--input", dir});
  CHECK(input.exit_code == 1);
  CHECK(contains(input.err, "cannot open '" + dir + "': Is a directory"));
}

#ifdef NOS_HAVE_CUDA
TEST_CASE("tools: a bad GPU architecture is a usage error naming --arch") {
  for (const char* arch : {"sm_xyz", "sm_99999999999", "sm_20", "gfx90a"}) {
    INFO(arch);
    auto r = run_tool("nosc", {"compile", "-e", "g", "--target", "ptx", "--arch", arch});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, std::string("--arch ") + arch));
  }
}
#endif

TEST_CASE("tools: seeds are decimal 64-bit numbers, never saturated, wrapped or octal") {
  std::string file = steps("seed.json", kGoodSteps);
  for (const char* seed : {"18446744073709551616", "99999999999999999999", "-1", "010", "0x10", ""}) {
    INFO(seed);
    auto r = run_tool("nosc", {"eval", "-e", "g", "--input", file, "--seed", seed});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--seed"));
  }
  auto max = run_tool("nosc", {"eval", "-e", "g", "--input", file, "--seed", "18446744073709551615"});
  CHECK(max.exit_code == 0);
  auto verify = run_tool("nosc", {"verify", "-e", "g", "--seed", "18446744073709551616"});
  CHECK(verify.exit_code == 2);
}

TEST_CASE("tools: total_steps smaller than the steps given exits 1") {
  auto r = run_tool("nosc", {"eval", "-e", "g", "--input",
                             steps("short.json", R"({"lr": 0.1, "total_steps": 1, "w": [1], "grads": [[1], [2]]})")});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "\"grads\" holds 2 steps, more than \"total_steps\" = 1"));
}

TEST_CASE("tools: a learning rate that rounds to 0 in float32 exits 1") {
  for (const char* lr : {"1e-50", "0", "-0.1"}) {
    INFO(lr);
    std::string json = std::string(R"({"lr": )") + lr + R"(, "total_steps": 3, "w": [1], "grads": [[1]]})";
    auto r = run_tool("nosc", {"eval", "-e", "g", "--input", steps("lr.json", json)});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "\"lr\""));
  }
  auto tiny = run_tool("nosc", {"eval", "-e", "g", "--input", steps("lr.json", R"({"lr": 1e-50, "total_steps": 3, "w": [1], "grads": [[1]]})")});
  CHECK(contains(tiny.err, "rounds to 0 in float32"));
}
