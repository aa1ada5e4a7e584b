// nos-bench search end to end, short: 400 candidates of a random search on the synthetic child
// (no training), with --readers, on SQLite and on PostgreSQL where NOS_TEST_POSTGRES_URL names a
// server. It checks the record's pace and reader times and how they relate, never how fast: the
// numbers are docs/benchmarks.md's, measured.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/tools/run_tool.h"

using nos::testing::run_tool;
using nos::testing::temp_file;

namespace {

nlohmann::json short_search(const std::string& name, const std::vector<std::string>& more) {
  std::string json = temp_file(name + ".json", "");
  std::vector<std::string> args{"search", "--workers", "2", "--budget", "400", "--time-budget", "0", "--strategy", "random",
                                "--child-args", "--child synthetic:0 --batch 50", "--pace-window", "100", "--readers",
                                "--json", json};
  args.insert(args.end(), more.begin(), more.end());
  auto r = run_tool("nos-bench", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("last/first") != std::string::npos);
  std::ifstream in(json);
  REQUIRE(in);
  nlohmann::json doc = nlohmann::json::parse(in);
  REQUIRE(doc["runs"].size() == 1u);
  const nlohmann::json run = doc["runs"][0];
  INFO(run.dump(2));
  CHECK(run["counts"]["candidates"] == 400);
  const nlohmann::json& pace = run["pace"];
  CHECK(pace["window"] == 100);
  CHECK(pace["first_window_from"].get<std::int64_t>() >= 0);
  // A window of two batches may read 0: its candidates were all done before an earlier batch's
  // deferred copy got its result (at that batch's learning, after the next batches were proposed).
  const double first = pace["first_seconds_per_candidate"].get<double>();
  CHECK(first >= 0);
  CHECK(pace["last_seconds_per_candidate"].get<double>() >= 0);
  if (first > 0)
    CHECK(pace["last_over_first"].get<double>() * first == doctest::Approx(pace["last_seconds_per_candidate"].get<double>()));
  for (const char* reader : {"status", "top", "report"}) {
    CAPTURE(reader);
    CHECK(run["reader_seconds"][reader]["wall"].get<double>() > 0);
    CHECK(run["reader_seconds"][reader]["cpu"].get<double>() >= 0);
  }
  return run;
}

}  // namespace

TEST_CASE("nos-bench search: the pace and the readers' times of a short synthetic search on SQLite") {
  nlohmann::json run = short_search("search-pace-sqlite", {});
  CHECK_FALSE(run.contains("search"));
}

TEST_CASE("nos-bench search --postgres: the search in a PostgreSQL database, its password not recorded") {
  const char* url = std::getenv("NOS_TEST_POSTGRES_URL");
  if (!url || !*url) {
    MESSAGE("[SKIP] NOS_TEST_POSTGRES_URL is not set (tests/run.sh starts a private server; by hand: tests/postgres/cluster.sh)");
    return;
  }
  nlohmann::json run = short_search("search-pace-postgres", {"--postgres", url});
  CHECK(run["search"].get<std::string>().starts_with("bench-search-"));
  CHECK(run["command"].get<std::string>().find("--name " + run["search"].get<std::string>()) != std::string::npos);
  CHECK(run["command"].get<std::string>().find(":nos@") == std::string::npos);  // the test server's password
  // nos-search run writes NAME.workers.log in its working directory: the benchmark's, not ours.
  CHECK_FALSE(std::filesystem::exists(run["search"].get<std::string>() + ".workers.log"));
}

TEST_CASE("nos-bench search: a --postgres that is not a PostgreSQL URL, a --pace-window of 0: usage errors") {
  auto bad_url = run_tool("nos-bench", {"search", "--budget", "10", "--postgres", "mysql://x"});
  CHECK(bad_url.exit_code == 2);
  CHECK(bad_url.err.find("--postgres") != std::string::npos);
  CHECK(run_tool("nos-bench", {"search", "--budget", "10", "--pace-window", "0"}).exit_code == 2);
}
