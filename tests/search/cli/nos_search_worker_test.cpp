// nos-search worker started by hand beside `run --workers 0`, end to end: --device (a malformed one
// is a usage error; one this machine lacks, given or stored in the search, is refused before any
// work is taken; --device cpu trains a search stored for another device), and a stale worker
// (SIGSTOPped past its lease while another worker takes its candidate over and finishes it: when
// it continues, its result is refused, the newer one stands, and its log says so), on SQLite and,
// where NOS_TEST_POSTGRES_URL names a server, on PostgreSQL.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/search/storage.h"
#include "tests/runtime/test_data_files.h"
#include "tests/search/cli/search_processes.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

const std::string& blobs() {
  static const std::string file =
      nos::testing::write_blobs_csv(nos::testing::temp_dir("search_worker") + "/blobs.csv", 600, 8, 3, false);
  return file;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What a worker that was refused must not have changed: the queue and the evaluations.
struct QueueState {
  TaskCounts counts;
  std::size_t evaluations = 0;
};
QueueState queue_state(const std::string& db) {
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  return {storage->counts(id), storage->evaluations(id).size()};
}

// The stale worker's scenario on one database (a file or a URL).
void stale_worker_is_refused(const std::string& db, const std::string& logs) {
  // A synthetic child of 1.5 s (the stop lands mid-evaluation), leases of 2 s.
  std::string config = logs + "/lease.json";
  std::ofstream(config) << R"({"lease": {"seconds": 2}})";
  pid_t run = testing::start_nos_search({"run", "--db", db, "--name", "stale", "--config", config, "--child",
                                         "synthetic:1.5", "--budget", "8", "--batch", "8", "--seed", "3", "--workers",
                                         "0", "--no-report", "--quiet"},
                                        logs + "/run.log");
  // A worker started before the search exists would find no search: start it once work is queued.
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).queued > 0; }));
  pid_t a = testing::start_nos_search({"worker", "--db", db, "--max-tasks", "1"}, logs + "/a.log");
  Lease taken;
  REQUIRE(testing::poll_search(db, [&](Storage& s, SearchId id) {
    for (const Lease& lease : s.running(id))
      if (testing::pid_of_owner(lease.owner) == a) {
        taken = lease;
        return true;
      }
    return false;
  }));
  REQUIRE(kill(a, SIGSTOP) == 0);
  CHECK(taken.attempt == 1);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past the lease: no heartbeat from a stopped process

  // Another worker takes the candidate over (attempt 2) and finishes it, then the rest.
  pid_t b = testing::start_nos_search({"worker", "--db", db, "--max-idle", "2"}, logs + "/b.log");
  std::optional<Evaluation> newer;
  REQUIRE(testing::poll_search(db, [&](Storage& s, SearchId id) {
    for (const Evaluation& e : s.evaluations(id, taken.candidate))
      if (e.accepted && e.stage == taken.stage) newer = e;
    return newer.has_value();
  }));
  CHECK(testing::pid_of_owner(newer->worker) == b);
  CHECK(newer->attempt == 2);

  // The stale worker continues: its evaluation ends, its result is refused.
  REQUIRE(kill(a, SIGCONT) == 0);
  CHECK(testing::wait_exit(a) == 0);
  CHECK(testing::wait_exit(run) == 0);
  CHECK(testing::wait_exit(b) == 0);
  std::string a_log = testing::read_log(logs + "/a.log");
  INFO(a_log);
  CHECK(contains(a_log, fmt::format("candidate {} stage {}: ", taken.candidate, taken.stage)));
  CHECK(contains(a_log, "; refused: the lease (attempt 1) is no longer this worker's"));
  CHECK(contains(a_log, "0 evaluated, 1 refused (lease lost)"));

  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  std::vector<Evaluation> attempts = storage->evaluations(id, taken.candidate);
  int accepted = 0, from_a = 0;
  for (const Evaluation& e : attempts) {
    accepted += e.accepted;
    if (e.accepted) {
      CHECK(e.id == newer->id);  // the newer result stands
      CHECK(e.attempt == 2);
    }
    if (e.worker == taken.owner && e.status != search::Status::Crashed) {
      ++from_a;  // its late result, kept for the record but not accepted
      CHECK_FALSE(e.accepted);
      CHECK(e.attempt == 1);
    }
  }
  CHECK(accepted == 1);
  CHECK(from_a == 1);
  // Every candidate of the search has exactly one accepted stage-1 result.
  std::map<std::int64_t, int> results;
  for (const Evaluation& e : storage->evaluations(id))
    if (e.accepted && e.stage == 1) ++results[e.candidate];
  CHECK(results.size() == 8);
  for (const auto& [candidate, n] : results) CHECK_MESSAGE(n == 1, "candidate ", candidate);
}

}  // namespace

TEST_CASE("nos-search worker --device: a malformed one is a usage error, one this machine lacks takes no work") {
  TempDir dir;
  // cuda:99 exists on no machine: the same test holds with and without a GPU. run with --workers 0
  // and no baseline trains nothing itself, so it stores the search for that device.
  std::string db = dir.file("device.db");
  pid_t run = testing::start_nos_search({"run", "--db", db, "--data", blobs(), "--hidden", "8", "--epochs", "1",
                                         "--train-subset", "0", "--lr", "0.1", "--budget", "8", "--batch", "8", "--seed",
                                         "7", "--workers", "0", "--device", "cuda:99", "--no-baseline", "--no-report",
                                         "--quiet"},
                                        dir.file("run.log"));
  REQUIRE(testing::poll_search(db, [](Storage& s, SearchId id) { return s.counts(id).queued > 0; }));
  QueueState before = queue_state(db);

  ToolResult r = run_tool("nos-search", {"worker", "--db", db, "--device", "gpu"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--device: unknown device 'gpu' (expected cpu, cuda or cuda:N)"));

  r = run_tool("nos-search", {"worker", "--db", db, "--device", "cuda:99"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, "nos-search: error: --device: device 'cuda:99': "), r.err);

  r = run_tool("nos-search", {"worker", "--db", db});  // the search's own device
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, db + ": search 'search' trains on child.device 'cuda:99', and this machine cannot: "),
                r.err);
  CHECK(contains(r.err, "(choose another with --device)"));

  QueueState after = queue_state(db);  // nothing claimed, nothing stored
  CHECK(after.counts.queued == before.counts.queued);
  CHECK(after.counts.running == 0);
  CHECK(after.evaluations == before.evaluations);

  // A worker on the CPU trains the search stored for another device: every trained result is a
  // real training (a child on cuda:99 would have failed every attempt).
  r = run_tool("nos-search", {"worker", "--db", db, "--device", "cpu", "--max-idle", "2"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(contains(r.out, "device cpu)"));
  CHECK(testing::wait_exit(run) == 0);
  auto storage = open_storage(db, OpenMode::ReadOnly);
  SearchId id = storage->searches().at(0).id;
  int trained = 0;
  for (const Evaluation& e : storage->evaluations(id)) {
    CHECK_MESSAGE(e.status != search::Status::Crashed, e.detail);
    trained += e.accepted && e.source == search::Source::Trained;
  }
  CHECK(trained > 0);
  CHECK(storage->counts(id).pending() == 0);
}

TEST_CASE("nos-search run --device: a malformed one is a usage error, one this machine lacks writes nothing") {
  TempDir dir;
  std::string db = dir.file("run-device.db");
  std::vector<std::string> args{"run", "--db", db, "--data", blobs(), "--budget", "8", "--batch", "8", "--quiet"};
  args.insert(args.end(), {"--device", "tpu"});
  ToolResult r = run_tool("nos-search", args);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--device: unknown device 'tpu'"));
  args.back() = "cuda:99";
  r = run_tool("nos-search", args);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, "nos-search: error: --device: device 'cuda:99': "), r.err);
  args.insert(args.end(), {"--workers", "0"});  // the Adam baseline would still train here
  r = run_tool("nos-search", args);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, "(the Adam baseline trains here: --no-baseline)"), r.err);
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("nos-search worker: a stale worker's result is refused and the newer one stands (SQLite)") {
  TempDir dir;
  stale_worker_is_refused(dir.file("stale.db"), dir.path().string());
}

#ifdef NOS_HAVE_POSTGRES
TEST_CASE("nos-search worker: a stale worker's result is refused and the newer one stands (PostgreSQL)") {
  std::optional<std::string> server = testing::postgres_test_url();
  if (!server) {
    MESSAGE(std::string(testing::kNoPostgres));
    return;
  }
  testing::FreshPostgresDatabase db(*server);
  TempDir dir;
  stale_worker_is_refused(db.url(), dir.path().string());
}
#endif

}  // namespace nos::search
