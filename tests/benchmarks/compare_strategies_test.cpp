// benchmarks/compare_strategies.sh on the build under test, at the smallest budget: two strategies
// search a synthetic child (nothing trains), then `nos-search final` retrains each search's best
// rule beside Adam over two seeds on a tiny table; the table and comparison.json show the rule's
// multi-seed mean and its paired difference with Adam (mean, 95 % CI, p), and a rerun only reports.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/runtime/test_data_files.h"
#include "tests/tools/run_tool.h"

namespace {

using nlohmann::json;
using nos::testing::run_program;
using nos::testing::source_path;
using nos::testing::ToolResult;

ToolResult run_script(const std::vector<std::string>& args) {
  std::vector<std::string> all{source_path("benchmarks/compare_strategies.sh")};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("/bin/bash", all);
}

// As the script's python prints a difference: f"{x:+.4f}".
std::string signed4(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.4f", x);
  return text;
}

}  // namespace

TEST_CASE("compare_strategies.sh: per strategy, the best rule's multi-seed mean and its paired difference with Adam") {
  namespace fs = std::filesystem;
  const std::string dir = nos::testing::temp_dir("compare_strategies");
  fs::remove_all(dir + "/out");
  const std::string data = nos::testing::write_blobs_csv(dir + "/blobs.csv", 300, 8, 3, false);
  const std::vector<std::string> args{"--build", NOS_BINARY_DIR, "--out", dir + "/out", "--budget", "4", "--seeds", "1",
                                      "--strategies", "random evolution", "--final-seeds", "2", "--",
                                      "--child", "synthetic:0", "--data", data, "--hidden", "16", "--epochs", "2",
                                      "--train-subset", "0", "--lr-grid", "0.01,0.1", "--batch", "2", "--workers", "1"};
  ToolResult r = run_script(args);
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("== random, seed 1: final, the best rule and Adam over 2 seeds") != std::string::npos);
  CHECK(r.out.find("best rule, final") != std::string::npos);
  CHECK(r.out.find("rule - adam") != std::string::npos);

  std::ifstream in(dir + "/out/comparison.json");
  REQUIRE(in);
  json doc = json::parse(in);
  for (const char* strategy : {"random", "evolution"}) {
    CAPTURE(strategy);
    REQUIRE(doc.contains(strategy));
    const json& s = doc[strategy];
    REQUIRE(s["runs"].size() == 1);
    const json& f = s["runs"][0]["final"];
    REQUIRE(f.is_object());
    CHECK(f["seeds"] == 2);
    CHECK(f["rule"].is_string());
    REQUIRE(f["rule_mean"].is_number());
    REQUIRE(f["adam_mean"].is_number());
    REQUIRE(f["difference"].is_number());
    // Paired by seed over the same seeds: the mean difference is the difference of the means.
    CHECK(f["difference"].get<double>() == doctest::Approx(f["rule_mean"].get<double>() - f["adam_mean"].get<double>()));
    CHECK(f["verdict"].is_string());
    CHECK((f["p"].is_null() || (f["p"].get<double>() >= 0 && f["p"].get<double>() <= 1)));
    if (f["ci95"].is_array()) CHECK(f["ci95"][0].get<double>() <= f["ci95"][1].get<double>());
    CHECK(f["lr"] == "lr swept over 0.01, 0.1 (1 epoch)");
    CHECK(s["best_rule_final_mean"]["mean"] == f["rule_mean"]);
    CHECK(s["best_rule_minus_adam"]["mean"] == f["difference"]);
    CHECK(s["last_20pct_mean_reward"]["mean"].is_number());  // what it reported before, still there
    // The rule's seed line: rule - adam = difference [CI], p (verdict).
    CHECK(r.out.find("= " + signed4(f["difference"].get<double>())) != std::string::npos);
  }

  // A rerun finds the databases and final's JSON: it only reports, the same numbers.
  ToolResult again = run_script(args);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find(": final, the best rule") == std::string::npos);
  std::ifstream in2(dir + "/out/comparison.json");
  CHECK(json::parse(in2)["random"]["best_rule_minus_adam"] == doc["random"]["best_rule_minus_adam"]);

  ToolResult bad = run_script({"--final-seeds", "x"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--final-seeds: expected 0 .. 1000, not 'x'") != std::string::npos);
}
