// nos-bench scaling end to end, short: 2 nos-search workers on a 0.05 s synthetic child for 2 s,
// on SQLite, and on PostgreSQL where NOS_TEST_POSTGRES_URL names a server; the whole search mode
// once; bad options. It checks that the JSON has every field and that the numbers are consistent
// with each other (the window's evaluations, both workers seen, no refused result, a queue that
// never ran dry), never how fast: the benchmark's numbers are docs/benchmarks.md's, measured.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/tools/run_tool.h"

using nos::testing::run_tool;
using nos::testing::temp_file;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// What every run record holds, and how its numbers relate.
void check_run(const nlohmann::json& r, const std::string& backend, const std::string& mode) {
  INFO(r.dump(2));
  CHECK(r["backend"] == backend);
  CHECK(r["mode"] == mode);
  CHECK(r["workers"] == 2);
  CHECK(r["workers_started"] == 2);
  CHECK(r["child_seconds"].get<double>() == doctest::Approx(0.05));
  CHECK(r["window"]["seconds"].get<double>() == doctest::Approx(2.0));
  CHECK(r["ideal_per_second"].get<double>() == doctest::Approx(40.0));
  const auto evaluations = r["evaluations"].get<std::int64_t>();
  CHECK(evaluations > 0);
  CHECK(r["evaluations_per_second"].get<double>() == doctest::Approx(evaluations / 2.0));
  CHECK(r["efficiency"].get<double>() == doctest::Approx(r["evaluations_per_second"].get<double>() / 40.0));
  // Two workers sleeping 0.05 s each cannot commit more than the ideal (one spare for the edges).
  CHECK(evaluations <= 2 * 2 / 0.05 + 2);
  CHECK(r["refused"] == 0);
  const nlohmann::json& claim = r["claim_latency"];
  CHECK(claim["samples"].get<std::int64_t>() > 0);
  CHECK(claim["median_s"].get<double>() >= 0);
  CHECK(claim["median_s"].get<double>() <= claim["p99_s"].get<double>());
  CHECK(claim["p99_s"].get<double>() <= claim["max_s"].get<double>());
  // A worker's cycle is at least the child's sleep.
  CHECK(r["cycle"]["median_s"].get<double>() >= 0.05);
  CHECK(r["worker_memory"]["processes"] == 2);
  CHECK(r["worker_memory"]["rss_mb_per_worker"].get<double>() > 0);
  CHECK(r["startup_seconds"].get<double>() >= 0);
}

std::vector<std::string> short_run(const std::string& json) {
  return {"scaling", "--workers", "2", "--child-seconds", "0.05", "--duration", "2", "--warmup", "0.5", "--json", json};
}

}  // namespace

// One queue-mode run on `backend` (with --postgres `url` where given): its record, checked.
void check_queue_mode(const std::string& backend, const std::string& url) {
  std::string json = temp_file("scaling-queue-" + backend + ".json", "");
  std::vector<std::string> args = short_run(json);
  args.insert(args.end(), {"--backends", backend});
  if (!url.empty()) args.insert(args.end(), {"--postgres", url});
  auto r = run_tool("nos-bench", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("of ideal") != std::string::npos);
  nlohmann::json doc = read_json(json);
  CHECK(doc["benchmark"] == "scaling");
  REQUIRE(doc["runs"].size() == 1u);
  const nlohmann::json& run = doc["runs"][0];
  check_run(run, backend, "queue");
  CHECK(run["queue"]["queued_at_end"].get<std::int64_t>() > 0);  // the window never ran out of work
  CHECK(run["queue"]["filled"].get<std::int64_t>() > run["evaluations"].get<std::int64_t>());
}

TEST_CASE("nos-bench scaling: the queue mode on SQLite") { check_queue_mode("sqlite", ""); }

TEST_CASE("nos-bench scaling: the queue mode on PostgreSQL") {
  const char* url = std::getenv("NOS_TEST_POSTGRES_URL");
  if (!url || !*url) {
    MESSAGE("[SKIP] NOS_TEST_POSTGRES_URL is not set (tests/run.sh starts a private server; by hand: tests/postgres/cluster.sh)");
    return;
  }
  check_queue_mode("postgresql", url);
}

TEST_CASE("nos-bench scaling --mode search: a real nos-search run proposes while the workers train") {
  std::string json = temp_file("scaling-search.json", "");
  std::vector<std::string> args = short_run(json);
  args.insert(args.end(), {"--mode", "search", "--backends", "sqlite"});
  auto r = run_tool("nos-bench", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json doc = read_json(json);
  REQUIRE(doc["runs"].size() == 1u);
  const nlohmann::json& run = doc["runs"][0];
  check_run(run, "sqlite", "search");
  CHECK(run["controller"]["candidates_in_window"].get<std::int64_t>() >= run["evaluations"].get<std::int64_t>());
  CHECK(run["command"].get<std::string>().find("--workers 0") != std::string::npos);
}

TEST_CASE("nos-bench scaling: bad options are usage errors, an unreachable database is bad input") {
  CHECK(run_tool("nos-bench", {"scaling", "--mode", "fast"}).exit_code == 2);
  auto no_url = run_tool("nos-bench", {"scaling", "--backends", "postgresql"});
  CHECK(no_url.exit_code == 2);
  CHECK(no_url.err.find("--postgres") != std::string::npos);
  CHECK(run_tool("nos-bench", {"scaling", "--postgres", "mysql://x"}).exit_code == 2);
  // Port 1 on this machine: nothing listens there.
  auto refused = run_tool("nos-bench", {"scaling", "--workers", "1", "--duration", "1", "--backends", "postgresql",
                                        "--postgres", "postgresql://nos@127.0.0.1:1/nos"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("127.0.0.1") != std::string::npos);
}
