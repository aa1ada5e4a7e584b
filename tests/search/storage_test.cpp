// The storage of a search: the conformance cases run against both backends (a fresh SQLite file;
// a fresh PostgreSQL database on the server NOS_TEST_POSTGRES_URL names, else [SKIP]): the queue
// and its leases, several processes at once, crashes, migrations. Then each backend's own cases:
// the files that are not (usable) search databases; the URLs, credentials and databases that are not.
#include <doctest/doctest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/search/storage.h"
#include "controller/search/storage/schema.h"
#include "controller/search/storage/sql_storage.h"
#include "tests/search/temp_dir.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif

namespace nos::search {
namespace {

using testing::TempDir;

// 16 hex digits, distinct per i.
std::string fmt_hash(int i) {
  char buffer[17];
  snprintf(buffer, sizeof buffer, "%016x", 0xabc000 + i);
  return buffer;
}

NewCandidate candidate(int i) {
  NewCandidate c;
  c.tokens = "g g id id add";
  c.rule = "g + g  # " + std::to_string(i);
  c.hash = fmt_hash(i);
  c.strategy_data = std::string("\0\1bytes", 7) + std::to_string(i);
  return c;
}

EvaluationResult ok_result(double metric) {
  EvaluationResult r;
  r.status = search::Status::Ok;
  r.lr = 0.01;
  r.metric = metric;
  r.reward = metric;
  r.metrics_json = R"({"accuracy":0.5})";
  return r;
}

// A search with n queued candidates in one batch.
SearchId make_search(Storage& storage, int n, LeasePolicy policy = {}) {
  SearchId id = storage.create_search("s", R"({"budget":10})", policy);
  std::vector<NewCandidate> batch;
  for (int i = 0; i < n; ++i) batch.push_back(candidate(i));
  storage.enqueue_batch(id, 0, batch);
  return id;
}

void sleep_seconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Runs `body` in a child process; returns its exit status (or 128 + signal).
template <class Body>
int in_child(Body body) {
  pid_t pid = fork();
  if (pid == 0) {
    int code = 0;
    try {
      code = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "child: %s\n", e.what());
      code = 99;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

std::string open_error(const std::string& path, OpenMode mode) {
  try {
    open_storage(path, mode);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}


// Version 3's tasks and evaluations (before results per seed and the baselines), for the migration cases.
constexpr const char* kSqliteVersion3 =
    "DROP TABLE replica_batches; DROP TABLE controller_parameters; "
    "CREATE TABLE tasks_v3 (id INTEGER PRIMARY KEY AUTOINCREMENT, search_id BIGINT NOT NULL, candidate BIGINT NOT NULL, "
    "stage INTEGER NOT NULL, state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'crashed')), "
    "owner TEXT, attempt INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, lease_expires DOUBLE PRECISION, "
    "heartbeat_at DOUBLE PRECISION, enqueued_at DOUBLE PRECISION NOT NULL, claimed_at DOUBLE PRECISION, "
    "finished_at DOUBLE PRECISION, UNIQUE (search_id, candidate, stage), "
    "FOREIGN KEY (search_id, candidate) REFERENCES candidates (search_id, idx)); "
    "INSERT INTO tasks_v3 SELECT id, search_id, candidate, stage, state, owner, attempt, failures, lease_expires, "
    "heartbeat_at, enqueued_at, claimed_at, finished_at FROM tasks; DROP TABLE tasks; "
    "ALTER TABLE tasks_v3 RENAME TO tasks; CREATE INDEX tasks_by_state ON tasks (search_id, state, id); "
    "CREATE TABLE evaluations_v3 (id INTEGER PRIMARY KEY AUTOINCREMENT, search_id BIGINT NOT NULL, "
    "candidate BIGINT NOT NULL, stage INTEGER NOT NULL, task BIGINT, attempt INTEGER NOT NULL, "
    "accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)), status TEXT NOT NULL, source TEXT NOT NULL, "
    "reused_from BIGINT, detail TEXT NOT NULL, lr DOUBLE PRECISION, metric DOUBLE PRECISION, reward DOUBLE PRECISION, "
    "metrics TEXT NOT NULL, curves TEXT NOT NULL, timings TEXT NOT NULL, worker TEXT NOT NULL, "
    "started_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION NOT NULL, "
    "FOREIGN KEY (search_id, candidate) REFERENCES candidates (search_id, idx)); "
    "INSERT INTO evaluations_v3 SELECT id, search_id, candidate, stage, task, attempt, accepted, status, source, "
    "reused_from, detail, lr, metric, reward, metrics, curves, timings, worker, started_at, finished_at FROM evaluations; "
    "DROP TABLE evaluations; ALTER TABLE evaluations_v3 RENAME TO evaluations; "
    "CREATE INDEX evaluations_by_candidate ON evaluations (search_id, candidate, stage); "
    "CREATE UNIQUE INDEX evaluations_accepted ON evaluations (search_id, candidate, stage) WHERE accepted = 1; "
    "CREATE INDEX evaluations_resolved ON evaluations (search_id) WHERE task IS NULL AND accepted = 1; "
    "UPDATE nos_schema SET version = 3";
constexpr const char* kPostgresVersion3 =
    "DROP TABLE replica_batches; DROP TABLE controller_parameters; "
    "DROP INDEX tasks_by_baseline; DROP INDEX evaluations_baseline_accepted; DROP INDEX evaluations_accepted; "
    "ALTER TABLE tasks DROP CONSTRAINT tasks_search_id_candidate_stage_seed_key; "
    "ALTER TABLE tasks DROP COLUMN seed; ALTER TABLE tasks DROP COLUMN baseline; "
    "ALTER TABLE tasks ALTER COLUMN candidate SET NOT NULL; "
    "ALTER TABLE tasks ADD CONSTRAINT tasks_search_id_candidate_stage_key UNIQUE (search_id, candidate, stage); "
    "ALTER TABLE evaluations DROP COLUMN seed; ALTER TABLE evaluations DROP COLUMN baseline; "
    "ALTER TABLE evaluations ALTER COLUMN candidate SET NOT NULL; "
    "CREATE UNIQUE INDEX evaluations_accepted ON evaluations (search_id, candidate, stage) WHERE accepted = 1; "
    "UPDATE nos_schema SET version = 3";

// What a conformance case needs of a backend: fresh() is the location of a new, empty database;
// sql() runs raw SQL in one (to fake an old schema); skip() says (and prints) when it cannot run.
struct SqliteBackend {
  TempDir dir;
  int made = 0;
  bool skip() const { return false; }
  std::string fresh() { return dir.file("db" + std::to_string(made++) + ".db"); }
  void sql(const std::string& path, const std::string& statements) { raw_sql(path, statements); }
  void to_version_3(const std::string& path) { sql(path, kSqliteVersion3); }
};

struct PostgresBackend {
#ifdef NOS_HAVE_POSTGRES
  std::optional<std::string> server = testing::postgres_test_url();
  std::vector<std::unique_ptr<testing::FreshPostgresDatabase>> databases;
  bool skip() const {
    if (!server) MESSAGE(std::string(testing::kNoPostgres));
    return !server;
  }
  std::string fresh() {
    databases.push_back(std::make_unique<testing::FreshPostgresDatabase>(*server));
    return databases.back()->url();
  }
  void sql(const std::string& url, const std::string& statements) {
    try {
      testing::postgres_sql(url, statements);
    } catch (const std::exception& e) {
      FAIL(e.what());
    }
  }
  void to_version_3(const std::string& url) { sql(url, kPostgresVersion3); }
#else
  bool skip() const {
    MESSAGE("[SKIP] PostgreSQL storage: not built (no libpq)");
    return true;
  }
  std::string fresh() { return ""; }
  void sql(const std::string&, const std::string&) {}
  void to_version_3(const std::string&) {}
#endif
};

}  // namespace
}  // namespace nos::search

TYPE_TO_STRING_AS("SQLite", nos::search::SqliteBackend);
TYPE_TO_STRING_AS("PostgreSQL", nos::search::PostgresBackend);

namespace nos::search {

TEST_CASE_TEMPLATE("storage: a search's configuration, candidates and queue survive reopening", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 3, {30, 2, -1});
    CHECK(storage->enqueue_batch(id, 1, {candidate(3), candidate(4)}) == 3);
    storage->save_strategy_state(id, 0, std::string("\0state0", 7), R"({"entropy":2.5})");
    storage->save_strategy_state(id, 1, "state1", "{}");
  }
  auto storage = open_storage(path, OpenMode::Open);
  std::optional<SearchInfo> info = storage->find_search("s");
  REQUIRE(info);
  CHECK(info->id == id);
  CHECK(info->config_json == R"({"budget":10})");
  CHECK(info->policy.lease_seconds == 30);
  CHECK(info->policy.max_attempts == 2);
  CHECK(info->policy.crash_reward == -1);
  CHECK(storage->searches().size() == 1);
  CHECK_FALSE(storage->find_search("other"));

  std::vector<Candidate> all = storage->candidates(id);
  REQUIRE(all.size() == 5);
  CHECK(all[4].index == 4);
  CHECK(all[4].batch == 1);
  CHECK(all[2].hash == fmt_hash(2));
  CHECK(all[2].strategy_data == candidate(2).strategy_data);  // bytes, NUL included
  CHECK(storage->candidates(id, 1).size() == 2);
  CHECK(storage->counts(id).queued == 5);
  CHECK(storage->counts(id, 0).queued == 3);

  std::optional<StrategyState> state = storage->latest_strategy_state(id);
  REQUIRE(state);
  CHECK(state->batch == 1);
  CHECK(state->bytes == "state1");
  std::vector<BatchRecord> records = storage->batch_records(id);
  REQUIRE(records.size() == 2);
  CHECK(records[0].batch == 0);
  CHECK(records[0].statistics_json == R"({"entropy":2.5})");
  CHECK(records[1].batch == 1);
  CHECK(records[1].saved_at >= records[0].saved_at);
  CHECK(records[0].state_bytes == 7);
  CHECK(records[1].state_bytes == 6);

  // First come, first served: the queue is in enqueue order.
  for (int i = 0; i < 5; ++i) {
    std::optional<ClaimedTask> claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    CHECK(claimed->lease.candidate == i);
    CHECK(claimed->lease.attempt == 1);
    CHECK(claimed->candidate.rule == candidate(i).rule);
    CHECK(claimed->lease.expires_at > claimed->lease.claimed_at);
    CHECK(storage->finish(claimed->lease, ok_result(i)));
  }
  CHECK_FALSE(storage->claim(id, "w"));
  TaskCounts counts = storage->counts(id);
  CHECK(counts.finished == 5);
  CHECK(counts.pending() == 0);
  std::vector<Evaluation> evaluations = storage->evaluations(id, 3);
  REQUIRE(evaluations.size() == 1);
  CHECK(evaluations[0].accepted);
  CHECK(evaluations[0].metric == 3);
  CHECK(evaluations[0].worker == "w");
  CHECK(evaluations[0].metrics_json == R"({"accuracy":0.5})");
  CHECK(evaluations[0].finished_at >= evaluations[0].started_at);
}

// The search keeps the latest two strategy states only (an lstm's is megabytes a batch): every
// driver must empty the older ones, and keep every batch's statistics.
TEST_CASE_TEMPLATE("storage: older strategy states are dropped, the latest kept, every batch's statistics kept", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  auto storage = open_storage(path, OpenMode::Create);
  SearchId id = make_search(*storage, 1);
  SearchId other = storage->create_search("other", "{}", {});
  const std::string big(100000, '\x7f');
  for (int b = 0; b < 4; ++b) {
    storage->save_strategy_state(id, b, big + std::to_string(b), fmt::format(R"({{"batch":{}}})", b));
    storage->save_strategy_state(other, b, "o" + std::to_string(b), "{}");
  }
  storage->drop_strategy_states_before(id, 2);  // what the search does after saving batch 3
  storage->drop_strategy_states_before(id, 2);  // again: nothing more changes

  std::vector<BatchRecord> records = storage->batch_records(id);
  REQUIRE(records.size() == 4);
  for (int b = 0; b < 4; ++b) {
    CAPTURE(b);
    CHECK(records[b].batch == b);
    CHECK(records[b].statistics_json == fmt::format(R"({{"batch":{}}})", b));
    CHECK(records[b].state_bytes == (b < 2 ? 0 : 100001));
  }
  std::optional<StrategyState> latest = storage->latest_strategy_state(id);
  REQUIRE(latest);
  CHECK(latest->batch == 3);
  CHECK(latest->bytes == big + "3");
  // Another search's states are its own.
  for (const BatchRecord& r : storage->batch_records(other)) CHECK(r.state_bytes == 2);

  // The next batch: the one before the latest two goes too, and a reopened database agrees.
  storage->save_strategy_state(id, 4, "s4", "{}");
  storage->drop_strategy_states_before(id, 3);
  storage.reset();
  storage = open_storage(path, OpenMode::ReadOnly);
  records = storage->batch_records(id);
  REQUIRE(records.size() == 5);
  CHECK(records[2].state_bytes == 0);
  CHECK(records[3].state_bytes == 100001);
  CHECK(records[4].state_bytes == 2);
  CHECK(storage->latest_strategy_state(id)->bytes == "s4");
}

// One query for a batch's results (the search learns from them, resolves its copies): the same
// evaluations, in the same order, as reading each candidate's in turn.
TEST_CASE_TEMPLATE("storage: a batch's evaluations in one read, as each candidate's in turn", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 3, {600, 2, -0.5});  // batch 0: candidates 0, 1, 2
  NewCandidate invalid = candidate(4);
  invalid.resolved = EvaluationResult{};
  invalid.resolved->status = Status::Invalid;
  invalid.resolved->detail = "only NaN";
  NewCandidate copy = candidate(3);
  copy.deferred = true;
  storage->enqueue_batch(id, 1, {candidate(3), invalid, copy});  // batch 1: 3, 4 (known), 5 (copy)
  SearchId other = storage->create_search("other", "{}", {});
  storage->enqueue_batch(other, 0, {candidate(0), candidate(1)});
  // A batch's counts and candidates (its own queries, through candidates_by_batch) and the
  // search's: a known result counts as finished, a deferred copy as nothing yet.
  auto counted = [](const TaskCounts& c) { return std::vector<std::int64_t>{c.queued, c.running, c.finished, c.crashed}; };
  CHECK(counted(storage->counts(id, 0)) == std::vector<std::int64_t>{3, 0, 0, 0});
  CHECK(counted(storage->counts(id, 1)) == std::vector<std::int64_t>{1, 0, 1, 0});
  CHECK(counted(storage->counts(id, 2)) == std::vector<std::int64_t>{0, 0, 0, 0});
  CHECK(counted(storage->counts(id)) == std::vector<std::int64_t>{4, 0, 1, 0});
  CHECK(counted(storage->counts(other)) == std::vector<std::int64_t>{2, 0, 0, 0});

  // Attempts of different candidates interleave in storage order: 0 fails, 1 ends, 0 again.
  auto first = storage->claim(id, "w1");
  auto second = storage->claim(id, "w2");
  REQUIRE(first);
  REQUIRE(second);
  storage->abandon(first->lease, "worker killed by signal 9");
  CHECK(storage->finish(second->lease, ok_result(0.25)));
  while (auto claimed = storage->claim(id, "w3")) CHECK(storage->finish(claimed->lease, ok_result(claimed->lease.candidate)));
  storage->enqueue_stage(id, 1, 2);
  auto stage_two = storage->claim(id, "w4");
  REQUIRE(stage_two);
  EvaluationResult second_stage = ok_result(0.5);
  second_stage.stage = 2;
  CHECK(storage->finish(stage_two->lease, second_stage));
  storage->store_result(id, 5, *storage->lookup_by_hash(id, fmt_hash(3)));
  while (auto claimed = storage->claim(other, "w5")) CHECK(storage->finish(claimed->lease, ok_result(9)));

  // Batch by batch, what the whole search holds: candidates and counts (stage 2 included).
  std::vector<std::int64_t> sum(4, 0);
  std::vector<std::int64_t> indices;
  for (std::int64_t batch : {0, 1, 2}) {
    for (const Candidate& c : storage->candidates(id, batch)) {
      CHECK(c.batch == batch);
      indices.push_back(c.index);
    }
    std::vector<std::int64_t> n = counted(storage->counts(id, batch));
    for (std::size_t i = 0; i < n.size(); ++i) sum[i] += n[i];
  }
  CHECK(indices == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(storage->candidates(id).size() == 6);
  CHECK(counted(storage->counts(id, 0)) == std::vector<std::int64_t>{0, 0, 4, 0});  // 0, 1 (two stages), 2
  CHECK(counted(storage->counts(id, 1)) == std::vector<std::int64_t>{0, 0, 3, 0});  // 3; 4 and 5 without a task
  CHECK(sum == counted(storage->counts(id)));
  CHECK(counted(storage->counts(other)) == std::vector<std::int64_t>{0, 0, 2, 0});

  for (std::int64_t batch : {0, 1, 2}) {
    CAPTURE(batch);
    std::vector<Evaluation> expected;
    for (const Candidate& c : storage->candidates(id, batch))
      for (const Evaluation& e : storage->evaluations(id, c.index)) expected.push_back(e);
    std::vector<Evaluation> got = storage->evaluations_of_batch(id, batch);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].id == expected[i].id);
      CHECK(got[i].candidate == expected[i].candidate);
      CHECK(got[i].stage == expected[i].stage);
      CHECK(got[i].attempt == expected[i].attempt);
      CHECK(got[i].accepted == expected[i].accepted);
      CHECK(got[i].status == expected[i].status);
      CHECK(got[i].source == expected[i].source);
      CHECK(got[i].reused_from == expected[i].reused_from);
      CHECK(got[i].reward == expected[i].reward);
      CHECK(got[i].worker == expected[i].worker);
      CHECK(got[i].metrics_json == expected[i].metrics_json);
    }
  }
  // What that is: batch 0 has candidate 0's failed attempt and its result, candidate 1's two
  // stages, candidate 2's result; batch 1 has three results; batch 2 does not exist.
  std::vector<Evaluation> zero = storage->evaluations_of_batch(id, 0);
  REQUIRE(zero.size() == 5);
  CHECK(zero[0].candidate == 0);
  CHECK_FALSE(zero[0].accepted);
  CHECK(zero[1].candidate == 0);
  CHECK(zero[1].accepted);
  CHECK(zero[0].id < zero[1].id);
  CHECK(zero[2].stage == 1);
  CHECK(zero[3].stage == 2);
  CHECK(zero[4].candidate == 2);
  std::vector<Evaluation> one = storage->evaluations_of_batch(id, 1);
  REQUIRE(one.size() == 3);
  CHECK(one[1].status == search::Status::Invalid);
  CHECK(one[2].candidate == 5);
  CHECK(one[2].reward == one[0].reward);
  CHECK(storage->evaluations_of_batch(id, 2).empty());
  CHECK(storage->evaluations_of_batch(other, 0).size() == 2);
}

TEST_CASE_TEMPLATE("storage: results known without training, and lookups by hash and fingerprint", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  NewCandidate trained = candidate(0);
  trained.fingerprint = "fp-a";
  NewCandidate invalid = candidate(1);
  invalid.resolved = EvaluationResult{};
  invalid.resolved->status = Status::Invalid;
  invalid.resolved->detail = "only NaN";
  invalid.resolved->reward = 0.0;
  storage->enqueue_batch(id, 0, {trained, invalid});
  CHECK(storage->counts(id).queued == 1);
  CHECK(storage->counts(id).finished == 1);

  CHECK_FALSE(storage->lookup_by_hash(id, fmt_hash(0)));  // not finished yet
  std::optional<Evaluation> bad = storage->lookup_by_hash(id, fmt_hash(1));
  REQUIRE(bad);
  CHECK(bad->status == Status::Invalid);
  CHECK(bad->task == 0);

  auto claimed = storage->claim(id, "w");
  REQUIRE(claimed);
  CHECK(storage->finish(claimed->lease, ok_result(0.75)));

  std::optional<Evaluation> by_hash = storage->lookup_by_hash(id, fmt_hash(0));
  REQUIRE(by_hash);
  CHECK(by_hash->candidate == 0);
  CHECK(by_hash->metric == 0.75);
  CHECK_FALSE(storage->lookup_by_hash(id, fmt_hash(0), 2));  // no stage-2 result
  std::optional<Evaluation> by_fp = storage->lookup_by_fingerprint(id, "fp-a");
  REQUIRE(by_fp);
  CHECK(by_fp->candidate == 0);
  CHECK_FALSE(storage->lookup_by_fingerprint(id, ""));
  CHECK_FALSE(storage->lookup_by_fingerprint(id, "fp-b"));

  // A hit is stored as such, pointing at its source.
  NewCandidate hit = candidate(0);
  hit.resolved = *by_hash;
  hit.resolved->source = Source::CacheHit;
  hit.resolved->reused_from = by_hash->candidate;
  std::int64_t index = storage->enqueue_batch(id, 1, {hit});
  std::vector<Evaluation> e = storage->evaluations(id, index);
  REQUIRE(e.size() == 1);
  CHECK(e[0].source == search::Source::CacheHit);
  CHECK(e[0].reused_from == 0);
  CHECK(e[0].metric == 0.75);
  CHECK(storage->lookup_by_hash(id, fmt_hash(0))->candidate == 0);  // the earliest stays the answer

  // Stage 2 of the funnel is a task of its own.
  CHECK_FALSE(storage->has_task(id, 0, 2));
  storage->enqueue_stage(id, 0, 2);
  CHECK(storage->has_task(id, 0, 2));
  CHECK(storage->has_task(id, 0, 1));
  CHECK_THROWS_AS(storage->enqueue_stage(id, 0, 2), StorageError);
  CHECK_THROWS_AS(storage->enqueue_stage(id, 99, 2), StorageError);
  auto second = storage->claim(id, "w");
  REQUIRE(second);
  CHECK(second->lease.stage == 2);
  EvaluationResult r = ok_result(0.8);
  CHECK_THROWS_AS(storage->finish(second->lease, r), StorageError);  // a stage-1 result for a stage-2 lease
  r.stage = 2;
  CHECK(storage->finish(second->lease, r));
  CHECK(storage->lookup_by_hash(id, fmt_hash(0), 2)->metric == 0.8);

  CHECK_THROWS_AS(storage->create_search("s", "{}", {}), StorageError);
}

// A status or source this build does not know (written by a newer NOS, or by hand) is bad data:
// every read of it is a StorageError naming the database, the name and the evaluation (the CLI
// exits 1), never an enum out of range.
TEST_CASE_TEMPLATE("storage: an unknown status or source in a database is a StorageError naming it", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 2);
    auto claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    REQUIRE(storage->finish(claimed->lease, ok_result(0.5)));
  }
  // The schema's CHECK constraints stand in the way of the newer value, as they would not in a
  // newer schema: lifted here.
  const bool sqlite = std::is_same_v<Backend, SqliteBackend>;
  backend.sql(path, std::string(sqlite ? "PRAGMA ignore_check_constraints = ON; "
                                       : "ALTER TABLE evaluations DROP CONSTRAINT evaluations_status_check; "
                                         "ALTER TABLE evaluations DROP CONSTRAINT evaluations_source_check; ") +
                        "UPDATE evaluations SET status = 'great'");
  const std::string where = mask_password(path);
  {
    auto storage = open_storage(path, OpenMode::ReadOnly);
    CHECK_THROWS_WITH_AS(storage->evaluations(id), doctest::Contains((where + ": unknown evaluation status 'great'").c_str()),
                         StorageError);
    CHECK_THROWS_WITH_AS(storage->top(id, 5), doctest::Contains("unknown evaluation status 'great' (evaluation 1)"),
                         StorageError);
    CHECK_THROWS_AS(storage->lookup_by_hash(id, fmt_hash(0)), StorageError);
  }
  backend.sql(path, std::string(sqlite ? "PRAGMA ignore_check_constraints = ON; " : "") +
                        "UPDATE evaluations SET status = 'ok', source = 'copied'");
  auto storage = open_storage(path, OpenMode::ReadOnly);
  CHECK_THROWS_WITH_AS(storage->evaluations(id), doctest::Contains((where + ": unknown evaluation source 'copied'").c_str()),
                       StorageError);
}

TEST_CASE_TEMPLATE("storage: processes claiming at once get distinct candidates, each with exactly one accepted result", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  const int n = 80, workers = 4;
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, n);
  }
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pid_t pid = fork();
    if (pid == 0) {
      int code = 0;
      try {
        auto storage = open_storage(path, OpenMode::Open);
        std::string owner = "worker-" + std::to_string(w);
        while (auto claimed = storage->claim(id, owner)) {
          usleep(3000);  // "training": the others claim meanwhile
          if (!storage->finish(claimed->lease, ok_result(static_cast<double>(claimed->lease.candidate)))) code = 2;
        }
      } catch (const std::exception& e) {
        fprintf(stderr, "worker %d: %s\n", w, e.what());
        code = 1;
      }
      _exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto storage = open_storage(path, OpenMode::ReadOnly);
  std::vector<Evaluation> all = storage->evaluations(id);
  CHECK(all.size() == n);  // a candidate claimed twice would have two attempts
  std::map<std::int64_t, int> accepted;
  std::set<std::string> owners;
  for (const Evaluation& e : all) {
    CHECK(e.accepted);
    CHECK(e.attempt == 1);
    CHECK(e.metric == static_cast<double>(e.candidate));
    accepted[e.candidate] += e.accepted;
    owners.insert(e.worker);
  }
  CHECK(accepted.size() == n);
  for (auto [candidate, count] : accepted) CHECK(count == 1);
  CHECK(storage->counts(id).finished == n);
  MESSAGE(owners.size() << " of " << workers << " workers got work");
}

TEST_CASE_TEMPLATE("storage: an expired lease is taken over, and the stale owner's result is refused", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  // A lease within its time is held (a long one, so that a slow machine cannot expire it).
  SearchId held = storage->create_search("held", "{}", {600, 3, 0});
  storage->enqueue_batch(held, 0, {candidate(0)});
  auto holder = storage->claim(held, "a");
  REQUIRE(holder);
  CHECK_FALSE(storage->claim(held, "b"));
  CHECK(storage->requeue_expired(held) == 0);
  CHECK(storage->heartbeat(holder->lease));
  CHECK(holder->lease.expires_at > holder->lease.claimed_at + 599);

  SearchId id = make_search(*storage, 1, {0.2, 3, 0});
  auto a = storage->claim(id, "a");
  REQUIRE(a);
  CHECK(storage->heartbeat(a->lease));  // not taken over yet, whatever the clock says
  sleep_seconds(0.3);
  auto b = storage->claim(id, "b");  // a's lease expired: b takes the candidate over
  REQUIRE(b);
  CHECK(b->lease.candidate == a->lease.candidate);
  CHECK(b->lease.attempt == 2);
  CHECK_FALSE(storage->heartbeat(a->lease));
  CHECK_FALSE(storage->finish(a->lease, ok_result(0.1)));  // a came back: refused
  CHECK(storage->finish(b->lease, ok_result(0.9)));
  CHECK_FALSE(storage->finish(b->lease, ok_result(0.5)));  // finished once only

  std::vector<Evaluation> e = storage->evaluations(id, 0);
  REQUIRE(e.size() == 4);
  CHECK(e[0].status == search::Status::Crashed);  // a's lost attempt, recorded when b took over
  CHECK(e[0].attempt == 1);
  CHECK_FALSE(e[0].accepted);
  CHECK(e[0].detail.find("expired") != std::string::npos);
  CHECK(e[1].worker == "a");        // a's late result is kept, not accepted
  CHECK_FALSE(e[1].accepted);
  CHECK(e[2].worker == "b");
  CHECK(e[2].accepted);
  CHECK(e[2].metric == 0.9);
  CHECK_FALSE(e[3].accepted);
  CHECK(storage->lookup_by_hash(id, fmt_hash(0))->metric == 0.9);
}

TEST_CASE_TEMPLATE("storage: expired leases are re-queued, and a task ends crashed after max_attempts failures", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 2, {0.2, 2, -0.5});

  auto first = storage->claim(id, "w1");
  REQUIRE(first);
  sleep_seconds(0.3);
  CHECK(storage->requeue_expired(id) == 1);
  CHECK(storage->counts(id).queued == 2);

  auto again = storage->claim(id, "w2");  // FIFO: the re-queued candidate 0 comes first again
  REQUIRE(again);
  CHECK(again->lease.candidate == 0);
  CHECK(again->lease.attempt == 2);
  sleep_seconds(0.3);
  CHECK(storage->requeue_expired(id) == 1);  // second failure: crashed
  TaskCounts counts = storage->counts(id);
  CHECK(counts.crashed == 1);
  CHECK(counts.queued == 1);
  std::vector<Evaluation> e = storage->evaluations(id, 0);
  REQUIRE(e.size() == 2);
  CHECK_FALSE(e[0].accepted);
  CHECK(e[1].accepted);
  CHECK(e[1].status == search::Status::Crashed);
  CHECK(e[1].reward == -0.5);
  CHECK_FALSE(storage->lookup_by_hash(id, fmt_hash(0)));  // a crash is never reused
}

// With a long lease, so that no stall of a loaded machine can expire one between the steps.
TEST_CASE_TEMPLATE("storage: a lease handed back costs no attempt, a worker seen crashing costs one at once", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 1, {600, 2, -0.5});
  auto next = storage->claim(id, "w3");
  REQUIRE(next);
  CHECK(next->lease.candidate == 0);
  storage->release(next->lease);
  auto again1 = storage->claim(id, "w3");
  REQUIRE(again1);
  CHECK(again1->lease.attempt == 2);  // the fencing token still grows
  storage->abandon(again1->lease, "worker killed by signal 9");
  CHECK(storage->counts(id).queued == 1);  // release did not count as a failure
  auto last = storage->claim(id, "w4");
  REQUIRE(last);
  storage->abandon(last->lease, "worker killed by signal 11");
  TaskCounts counts = storage->counts(id);
  CHECK(counts.crashed == 1);
  CHECK(counts.pending() == 0);
  CHECK(storage->evaluations(id, 0).back().detail == "worker killed by signal 11");
}

TEST_CASE_TEMPLATE("storage: a supervisor fails the tasks of a worker it saw die, without waiting for expiry", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  auto storage = open_storage(path, OpenMode::Create);
  SearchId id = make_search(*storage, 3, {600, 2, -1});
  // The worker process claims two candidates and is killed while it evaluates them.
  int status = in_child([&] {
    auto own = open_storage(path, OpenMode::Open);
    if (!own->claim(id, "host:1234") || !own->claim(id, "host:1234")) return 1;
    raise(SIGKILL);
    return 2;
  });
  CHECK(status == 128 + SIGKILL);
  auto other = storage->claim(id, "host:999");
  REQUIRE(other);
  CHECK(other->lease.candidate == 2);
  std::vector<Lease> held = storage->running(id);
  REQUIRE(held.size() == 3);
  CHECK(held[0].owner == "host:1234");
  CHECK(held[0].candidate == 0);
  CHECK(held[2].owner == "host:999");

  CHECK(storage->abandon_owner(id, "host:1234", "worker 1234 killed by signal 9") == 2);
  CHECK(storage->abandon_owner(id, "host:1234", "again") == 0);
  TaskCounts counts = storage->counts(id);
  CHECK(counts.queued == 2);
  CHECK(counts.running == 1);  // the other worker keeps its lease
  auto retry = storage->claim(id, "host:1235");
  REQUIRE(retry);
  CHECK(retry->lease.candidate == 0);  // evaluated again, first in line
  CHECK(retry->lease.attempt == 2);
  CHECK(storage->abandon_owner(id, "host:1235", "killed again") == 1);  // second failure: crashed
  std::vector<Evaluation> e = storage->evaluations(id, 0);
  REQUIRE(e.size() == 2);
  CHECK(e[0].detail == "worker 1234 killed by signal 9");
  CHECK_FALSE(e[0].accepted);
  CHECK(e[1].status == search::Status::Crashed);
  CHECK(e[1].accepted);
  CHECK(e[1].reward == -1);
  CHECK(storage->finish(other->lease, ok_result(0.5)));
}

// Every case of the lease protocol in one place, on every driver (the rules are SqlStorage's, the
// SQL and the locks the driver's): claim, renewal, completion, a stale holder fenced off, the
// attempts running out.
TEST_CASE_TEMPLATE("storage: the lease protocol case by case: claim, heartbeat, finish, fencing, attempts exhausted", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 3, {600, 2, -1.5});

  // Claim: the first queued task first, attempt 1 (the fencing token), the owner, the expiry.
  auto a = storage->claim(id, "w1");
  REQUIRE(a);
  CHECK(a->lease.candidate == 0);
  CHECK(a->candidate.index == 0);
  CHECK(a->candidate.strategy_data == candidate(0).strategy_data);
  CHECK(a->lease.attempt == 1);
  CHECK(a->lease.owner == "w1");
  CHECK(a->lease.expires_at == doctest::Approx(a->lease.claimed_at + 600).epsilon(1e-6));
  std::vector<Lease> held = storage->running(id);
  REQUIRE(held.size() == 1);
  CHECK(held[0].task == a->lease.task);
  CHECK(held[0].attempt == 1);

  // Heartbeat: the expiry moves forward for the holder only.
  const double expiry = a->lease.expires_at;
  sleep_seconds(0.05);
  CHECK(storage->heartbeat(a->lease));
  CHECK(a->lease.expires_at > expiry);
  Lease other = a->lease;
  other.owner = "w9";
  CHECK_FALSE(storage->heartbeat(other));  // not its lease
  other = a->lease;
  other.attempt = 7;
  CHECK_FALSE(storage->heartbeat(other));  // not the current attempt

  // Completion: accepted once, then the lease is spent.
  CHECK(storage->finish(a->lease, ok_result(0.75)));
  CHECK_FALSE(storage->heartbeat(a->lease));
  CHECK_FALSE(storage->finish(a->lease, ok_result(0.5)));
  storage->release(a->lease);  // a spent lease handed back: nothing changes
  storage->abandon(a->lease, "late");
  TaskCounts counts = storage->counts(id);
  CHECK(counts.finished == 1);
  CHECK(counts.queued == 2);
  CHECK(counts.running == 0);
  CHECK(storage->lookup_by_hash(id, fmt_hash(0))->reward == 0.75);

  // Fencing: a holder whose attempt is no longer current can neither finish, renew, hand back
  // nor fail the task of the attempt that replaced it.
  auto b = storage->claim(id, "w1");
  REQUIRE(b);
  CHECK(b->lease.candidate == 1);
  storage->abandon(b->lease, "the worker crashed");  // attempt 1 failed: re-queued
  auto c = storage->claim(id, "w2");
  REQUIRE(c);
  CHECK(c->lease.candidate == 1);
  CHECK(c->lease.attempt == 2);
  CHECK_FALSE(storage->heartbeat(b->lease));
  CHECK_FALSE(storage->finish(b->lease, ok_result(0.1)));
  storage->release(b->lease);
  storage->abandon(b->lease, "stale");
  held = storage->running(id);
  REQUIRE(held.size() == 1);
  CHECK(held[0].owner == "w2");
  CHECK(held[0].attempt == 2);

  // Attempts exhausted: the second failure (max_attempts 2) ends the task crashed, with the
  // policy's reward as the candidate's accepted result, and it is never claimed again.
  CHECK(storage->abandon_owner(id, "w2", "the worker died") == 1);
  counts = storage->counts(id);
  CHECK(counts.crashed == 1);
  CHECK(counts.queued == 1);
  std::vector<Evaluation> e = storage->evaluations(id, 1);
  int accepted = 0;
  for (const Evaluation& x : e) {
    if (!x.accepted) continue;
    ++accepted;
    CHECK(x.status == search::Status::Crashed);
    CHECK(x.reward == -1.5);
    CHECK(x.attempt == 2);
    CHECK(x.worker == "w2");
  }
  CHECK(accepted == 1);
  auto d = storage->claim(id, "w3");
  REQUIRE(d);
  CHECK(d->lease.candidate == 2);
  CHECK_FALSE(storage->claim(id, "w3"));
}

TEST_CASE("storage: reopening after a crash loses nothing committed and nothing uncommitted appears") {
  TempDir dir;
  std::string path = dir.file("s.db");
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 5, {0.3, 2, 0});
  }
  // The child finishes three candidates, claims a fourth, starts a write it never commits, and dies.
  int status = in_child([&] {
    auto storage = open_storage(path, OpenMode::Open);
    for (int i = 0; i < 3; ++i) {
      auto claimed = storage->claim(id, "doomed");
      if (!claimed || !storage->finish(claimed->lease, ok_result(i))) return 1;
    }
    if (!storage->claim(id, "doomed")) return 2;
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_exec(raw, "BEGIN IMMEDIATE; DELETE FROM evaluations; UPDATE tasks SET state = 'queued';", nullptr, nullptr, nullptr);
    raise(SIGKILL);
    return 3;
  });
  CHECK(status == 128 + SIGKILL);

  auto storage = open_storage(path, OpenMode::Open);
  TaskCounts counts = storage->counts(id);
  CHECK(counts.finished == 3);
  CHECK(counts.running == 1);  // the dead worker's lease, until it expires
  CHECK(counts.queued == 1);
  CHECK(storage->evaluations(id).size() == 3);
  sleep_seconds(0.4);
  auto claimed = storage->claim(id, "survivor");
  REQUIRE(claimed);
  CHECK(claimed->lease.candidate == 3);  // the dead worker's candidate comes back first
  CHECK(claimed->lease.attempt == 2);
}

TEST_CASE_TEMPLATE("storage: top ranks one result per hash, the highest stage first, then reward, then order", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 5);
  // Rewards by candidate: 0.5, 0.7, 0.6, 0.6 (a tie: the earlier candidate first), none.
  const double rewards[] = {0.5, 0.7, 0.6, 0.6};
  for (int i = 0; i < 5; ++i) {
    auto claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    EvaluationResult r = i < 4 ? ok_result(rewards[i]) : EvaluationResult{};
    if (i == 4) r.status = search::Status::Diverged;
    storage->finish(claimed->lease, r);
  }
  // Candidate 0 reaches stage 2 with a low reward: a rule further through the funnel ranks first.
  storage->enqueue_stage(id, 0, 2);
  auto stage2 = storage->claim(id, "w");
  REQUIRE(stage2);
  EvaluationResult second = ok_result(0.1);
  second.stage = 2;
  storage->finish(stage2->lease, second);
  // Candidate 5 has candidate 1's hash with a higher reward (a cache hit would copy it; here a
  // rival training): the hash is listed once, with its best result.
  NewCandidate twin = candidate(1);
  twin.resolved = ok_result(0.8);
  twin.resolved->source = Source::CacheHit;
  storage->enqueue_batch(id, 1, {twin});

  std::vector<RankedResult> top = storage->top(id, 0);
  std::vector<std::int64_t> order;
  for (const auto& r : top) order.push_back(r.candidate.index);
  CHECK(order == std::vector<std::int64_t>{0, 5, 2, 3, 4});
  CHECK(top[0].evaluation.stage == 2);
  CHECK(top[0].evaluation.reward == doctest::Approx(0.1));
  CHECK(top[1].candidate.hash == fmt_hash(1));
  CHECK(top[1].evaluation.reward == doctest::Approx(0.8));
  CHECK(top[4].evaluation.status == search::Status::Diverged);
  CHECK(!top[4].evaluation.reward);
  CHECK(top[2].candidate.rule == candidate(2).rule);

  CHECK(storage->top(id, 2).size() == 2);
  CHECK(storage->top(id, 2)[1].candidate.index == 5);
}

TEST_CASE("storage: files that are not usable search databases get a clear error naming the file") {
  TempDir dir;

  std::string missing = dir.file("missing.db");
  CHECK(open_error(missing, OpenMode::Open) == missing + ": no such search database");
  CHECK(open_error(missing, OpenMode::ReadOnly) == missing + ": no such search database");

  std::string text = dir.file("notes.txt");
  std::ofstream(text) << "these are not the tables you are looking for\n" << std::string(5000, 'x');
  CHECK(open_error(text, OpenMode::Open).starts_with(text + ": not a NOS search database (not an SQLite file"));
  CHECK(open_error(text, OpenMode::Create) == text + ": already exists (resume it, or choose another file)");

  std::string empty = dir.file("empty.db");
  std::ofstream{empty};
  CHECK(open_error(empty, OpenMode::Open) == empty + ": not a NOS search database (the file is empty)");
  // Create (`run --db`) wants a path that does not exist: an empty file someone made is theirs.
  CHECK(open_error(empty, OpenMode::Create) ==
        empty + ": already exists (an empty file): a new search needs a path that does not exist yet (remove it, or "
                "choose another file)");
  CHECK(std::filesystem::file_size(empty) == 0);
  CHECK(open_storage(empty, OpenMode::OpenOrCreate));  // an empty file is a fine place to start

  std::string other = dir.file("other.db");
  raw_sql(other, "CREATE TABLE trials (id INTEGER)");
  CHECK(open_error(other, OpenMode::Open) ==
        other + ": not a NOS search database (an SQLite file without the nos_schema table)");

  std::string stranger = dir.file("stranger.db");
  raw_sql(stranger, "CREATE TABLE nos_schema (application TEXT, version INTEGER, created_at REAL);"
                    "INSERT INTO nos_schema VALUES ('optuna', 1, 0)");
  CHECK(open_error(stranger, OpenMode::Open).starts_with(stranger + ": not a NOS search database (nos_schema"));

  std::string newer = dir.file("newer.db");
  open_storage(newer, OpenMode::Create);
  raw_sql(newer, "UPDATE nos_schema SET version = 99");
  CHECK(open_error(newer, OpenMode::Open) ==
        newer + ": schema version 99 is newer than this NOS reads (5): use a newer nos-search");

  std::string older = dir.file("older.db");
  open_storage(older, OpenMode::Create);
  raw_sql(older, "UPDATE nos_schema SET version = 0");
  CHECK(open_error(older, OpenMode::Open) ==
        older + ": schema version 0 cannot be migrated to 5 (no migration from 0)");
  CHECK(open_error(older, OpenMode::ReadOnly).starts_with(older + ": schema version 0 is older than 5"));

  std::string existing = dir.file("existing.db");
  open_storage(existing, OpenMode::Create);
  CHECK(open_error(existing, OpenMode::Create) == existing + ": already exists (resume it, or choose another file)");
  CHECK(open_error(dir.path().string(), OpenMode::Open) == dir.path().string() + ": is a directory, not a search database");
  CHECK(open_error(dir.path().string(), OpenMode::Create) == dir.path().string() + ": is a directory, not a search database");
#ifndef NOS_HAVE_POSTGRES
  CHECK(open_error("postgresql://u:secret@h/db", OpenMode::Open)
            .starts_with("postgresql://u:***@h/db: PostgreSQL storage is not built (this nos-search was built without libpq"));
#endif

  // Read only: ReadOnly reads, and nothing can be written through it.
  auto reader = open_storage(existing, OpenMode::ReadOnly);
  CHECK(reader->searches().empty());
  CHECK_THROWS_WITH_AS(reader->create_search("s", "{}", {}), doctest::Contains(": opened read-only"), StorageError);
}

TEST_CASE_TEMPLATE("storage: a version-1 database is migrated to the current version on its first writable open", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 2);
    storage->save_strategy_state(id, 0, "s0", "{}");
  }
  // What version 1 looked like: no statistics column, no artifacts table.
  backend.to_version_3(path);
  backend.sql(path, "DROP TABLE artifacts; CREATE TABLE old_states AS SELECT search_id, batch, state, saved_at FROM "
                "strategy_states; DROP TABLE strategy_states; ALTER TABLE old_states RENAME TO strategy_states; "
                "DROP INDEX candidates_by_batch; DROP INDEX evaluations_resolved; UPDATE nos_schema SET version = 1");
  CHECK(open_error(path, OpenMode::ReadOnly).starts_with(mask_password(path) + ": schema version 1 is older than 5"));
  {
    auto storage = open_storage(path, OpenMode::Open);
    REQUIRE(storage->batch_records(id).size() == 1);
    CHECK(storage->batch_records(id)[0].statistics_json == "{}");
    storage->put_artifact(id, "baseline:adam", R"({"metric":0.8})");
    CHECK(storage->candidates(id).size() == 2);  // nothing lost
  }
  auto reader = open_storage(path, OpenMode::ReadOnly);
  CHECK(reader->artifact(id, "baseline:adam") == R"({"metric":0.8})");
  backend.sql(path, "DROP INDEX candidates_by_batch; DROP INDEX evaluations_resolved");  // made on the way (2 to 3)
}

// Version 3 adds the indexes a batch's reads and the search's counts use (bounded by the batch, not
// the history): a version-2 database gets them on its first writable open, and its data stays.
TEST_CASE_TEMPLATE("storage: a version-2 database gets the per-batch indexes on its first writable open", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 2);
  }
  backend.to_version_3(path);
  backend.sql(path, "DROP INDEX candidates_by_batch; DROP INDEX evaluations_resolved; UPDATE nos_schema SET version = 2");
  CHECK(open_error(path, OpenMode::ReadOnly).starts_with(mask_password(path) + ": schema version 2 is older than 5"));
  {
    auto storage = open_storage(path, OpenMode::Open);
    CHECK(storage->candidates(id, 0).size() == 2);
    CHECK(storage->counts(id, 0).queued == 2);
  }
  CHECK(open_storage(path, OpenMode::ReadOnly)->counts(id).queued == 2);
  // DROP INDEX fails (and the case with it) where the migration did not create the index.
  backend.sql(path, "DROP INDEX candidates_by_batch; DROP INDEX evaluations_resolved");
}

// Version 4 stores results per seed slot and the paired baselines' tasks and results: a version-3
// database (its tasks and evaluations as they were) gets them on its first writable open, with
// every row and id kept, and the queue works on seeds at once.
TEST_CASE_TEMPLATE("storage: a version-3 database gets results per seed and baselines on its first writable open", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string path = backend.fresh();
  SearchId id;
  std::int64_t last_id = 0;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 2);
    auto claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    REQUIRE(storage->finish(claimed->lease, ok_result(0.6)));
    storage->enqueue_stage(id, 0, 2);
    last_id = storage->evaluations(id).back().id;
  }
  backend.to_version_3(path);
  CHECK(open_error(path, OpenMode::ReadOnly).starts_with(mask_password(path) + ": schema version 3 is older than 5"));
  auto storage = open_storage(path, OpenMode::Open);
  std::vector<Evaluation> kept = storage->evaluations(id);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].id == last_id);
  CHECK(kept[0].seed == 0);
  CHECK(kept[0].reward == doctest::Approx(0.6));
  CHECK(storage->counts(id).queued == 2);  // candidate 1's stage 1, candidate 0's stage 2
  // Another seed of the same stage, and a baseline on it.
  storage->enqueue_stage(id, 0, 2, 1);
  CHECK(storage->enqueue_baseline(id, "adam", 2, 1));
  CHECK(storage->stage_seeds(id, fmt_hash(0), 2) == std::vector<int>{0, 1});
  for (int i = 0; i < 4; ++i) {
    auto claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    EvaluationResult r = ok_result(0.7);
    r.stage = claimed->lease.stage;
    r.seed = claimed->lease.seed;
    REQUIRE(storage->finish(claimed->lease, r));
  }
  CHECK(storage->evaluations(id).back().id > last_id);  // ids continue after the copied rows
  CHECK(storage->baseline_results(id).size() == 1);
  CHECK(storage->top(id, 1)[0].seeds.size() == 2);
}

TEST_CASE_TEMPLATE("storage: a candidate trains on several seeds, a baseline once per stage and seed", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  LeasePolicy once;
  once.max_attempts = 1;
  SearchId id = make_search(*storage, 1, once);
  auto first = storage->claim(id, "w");
  REQUIRE(first);
  REQUIRE(storage->finish(first->lease, ok_result(0.7)));

  storage->enqueue_stage(id, 0, 2, 0);
  storage->enqueue_stage(id, 0, 2, 1);
  CHECK(storage->has_task(id, 0, 2, 1));
  CHECK(!storage->has_task(id, 0, 2, 2));
  CHECK_THROWS_WITH_AS(storage->enqueue_stage(id, 0, 2, 1), doctest::Contains("candidate 0 already has a stage-2 task on seed 1"),
                       StorageError);
  CHECK(storage->enqueue_baseline(id, "adam", 2, 0));
  CHECK(!storage->enqueue_baseline(id, "adam", 2, 0));  // once per stage and seed
  CHECK(storage->enqueue_baseline(id, "adam", 2, 1));
  CHECK(storage->enqueue_baseline(id, "rmsprop", 2, 1));
  CHECK(storage->counts(id).queued == 5);

  // FIFO: the candidate's seeds, then the baselines; each result carries its lease's seed.
  const double rewards[] = {0.80, 0.84, 0.78, 0.80};
  for (int i = 0; i < 4; ++i) {
    auto claimed = storage->claim(id, "w");
    REQUIRE(claimed);
    const Lease& lease = claimed->lease;
    CHECK(lease.stage == 2);
    CHECK(lease.seed == i % 2);
    CHECK(lease.baseline == (i < 2 ? "" : "adam"));
    CHECK(lease.candidate == (i < 2 ? 0 : kNoCandidate));
    CHECK(claimed->candidate.index == lease.candidate);
    EvaluationResult r = ok_result(rewards[i]);
    r.stage = 2;
    r.seed = lease.seed + 1;  // not the lease's: refused
    CHECK_THROWS_WITH_AS(storage->finish(lease, r), doctest::Contains("on seed"), StorageError);
    r.seed = lease.seed;
    REQUIRE(storage->finish(lease, r));
  }
  // rmsprop's worker dies: with one attempt allowed, its result is the crash, stored as the baseline's.
  auto dying = storage->claim(id, "w");
  REQUIRE(dying);
  CHECK(dying->lease.baseline == "rmsprop");
  storage->abandon(dying->lease, "worker died");
  CHECK(storage->counts(id).pending() == 0);

  std::vector<Evaluation> baselines = storage->baseline_results(id);
  REQUIRE(baselines.size() == 3);
  CHECK(baselines[0].baseline == "adam");
  CHECK(baselines[0].seed == 0);
  CHECK(baselines[0].candidate == kNoCandidate);
  CHECK(baselines[0].reward == doctest::Approx(0.78));
  CHECK(baselines[1].seed == 1);
  CHECK(baselines[2].baseline == "rmsprop");
  CHECK(baselines[2].status == search::Status::Crashed);
  CHECK(storage->evaluations(id).size() == 3);  // the candidate's own: stage 1 and two seeds

  // A repeat of the rule (a cache hit) trained on seed 2 counts toward the same rule's seeds.
  NewCandidate twin = candidate(0);
  twin.resolved = ok_result(0.7);
  twin.resolved->source = Source::CacheHit;
  twin.resolved->reused_from = 0;
  storage->enqueue_batch(id, 1, {twin});
  CHECK(storage->stage_seeds(id, fmt_hash(0), 2) == std::vector<int>{0, 1});
  storage->enqueue_stage(id, 1, 2, 2);
  auto repeat = storage->claim(id, "w");
  REQUIRE(repeat);
  EvaluationResult r = ok_result(0.82);
  r.stage = 2;
  r.seed = 2;
  REQUIRE(storage->finish(repeat->lease, r));
  std::vector<RankedResult> top = storage->top(id, 0);
  REQUIRE(top.size() == 1);
  CHECK(top[0].evaluation.stage == 2);
  REQUIRE(top[0].seeds.size() == 3);
  CHECK(top[0].seeds[0].reward == doctest::Approx(0.80));
  CHECK(top[0].seeds[1].reward == doctest::Approx(0.84));
  CHECK(top[0].seeds[2].reward == doctest::Approx(0.82));
  CHECK(top[0].seeds[2].candidate == 1);
}

// SQLite's plan for each per-batch read starts from the batch's candidates (candidates_by_batch)
// and scans nothing; the search's counts read their indexes alone. Without this a 100,000-candidate
// search slowed with its history (docs/benchmarks.md, "A long search").
TEST_CASE("storage: SQLite plans a batch's reads from the batch's candidates, and counts from indexes") {
  TempDir dir;
  std::string path = dir.file("plan.db");
  {
    auto storage = open_storage(path, OpenMode::Create);
    SearchId id = make_search(*storage, 3);
    storage->enqueue_batch(id, 1, {candidate(3), candidate(4)});
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto plan = [&](const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE_MESSAGE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
    std::vector<std::string> steps;  // the detail column: "SEARCH c USING ... INDEX name (...)"
    while (sqlite3_step(s) == SQLITE_ROW) steps.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
    sqlite3_finalize(s);
    return steps;
  };
  // The policy's texts as the SQLite driver runs them ($n read as ?n; the plan is the same).
  for (const std::string& sql : {storage::queries::evaluations_of_batch(), storage::queries::task_counts(true),
                                 storage::queries::resolved_count(true)}) {
    CAPTURE(sql);
    std::vector<std::string> steps = plan(sql);
    REQUIRE_FALSE(steps.empty());
    CHECK(steps[0].find("INDEX candidates_by_batch (search_id=? AND batch=?)") != std::string::npos);
    for (const std::string& step : steps) CHECK(step.find("SCAN") == std::string::npos);
  }
  std::vector<std::string> tasks = plan(storage::queries::task_counts(false));
  REQUIRE(tasks.size() >= 1);
  CHECK(tasks[0].find("COVERING INDEX tasks_by_state") != std::string::npos);
  std::vector<std::string> resolved = plan(storage::queries::resolved_count(false));
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].find("INDEX evaluations_resolved") != std::string::npos);
  sqlite3_close(db);
}

// The SQLite driver's own hooks around the shared schema code: a new file is marked as a NOS search
// (application_id, in the creating transaction) and journals through WAL once opened.
TEST_CASE("storage: SQLite marks a new file as a NOS search and switches it to the WAL journal") {
  TempDir dir;
  const std::string path = dir.file("marked.db");
  open_storage(path, OpenMode::Create).reset();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    std::string value = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return value;
  };
  CHECK(pragma("PRAGMA application_id") == std::to_string(0x4E4F5353));
  CHECK(pragma("PRAGMA journal_mode") == "wal");
  sqlite3_close(db);
}

TEST_CASE("storage: SQLite's wait for work is a sleep") {
  TempDir dir;
  auto storage = open_storage(dir.file("w.db"), OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  CHECK_FALSE(storage->notifies());
  CHECK_FALSE(storage->wait_for_work(id, 0.01));
}

TEST_CASE("storage: SQLite checkpoints when the search says so, not in whichever commit fills the journal") {
  TempDir dir;
  std::string path = dir.file("c.db");
  auto storage = open_storage(path, OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  // 6 MB of strategy states: over SQLite's default limit (4 MB), under ours: all still in the WAL.
  std::string state(3u << 20, 'x');
  storage->save_strategy_state(id, 0, state, "{}");
  storage->save_strategy_state(id, 1, state, "{}");
  CHECK(std::filesystem::file_size(path) < (1u << 20));
  CHECK(std::filesystem::file_size(path + "-wal") > (6u << 20));
  storage->checkpoint();
  CHECK(std::filesystem::file_size(path) > (6u << 20));  // moved into the database file
  CHECK(storage->latest_strategy_state(id)->bytes == state);
}

TEST_CASE_TEMPLATE("storage: artifacts are named JSON documents, replaced by key", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 0);
  CHECK_FALSE(storage->artifact(id, "final"));
  storage->put_artifact(id, "final", "[1]");
  storage->put_artifact(id, "baseline:adam", "{}");
  storage->put_artifact(id, "final", "[2]");
  CHECK(storage->artifact(id, "final") == "[2]");
  CHECK(storage->artifact_keys(id) == std::vector<std::string>{"baseline:adam", "final"});
  CHECK_THROWS_AS(storage->put_artifact(id + 7, "x", "{}"), StorageError);

  // add_artifact never replaces: a second document under a stored key is refused, the first kept.
  CHECK(storage->add_artifact(id, "final:1", "[3]"));
  CHECK_FALSE(storage->add_artifact(id, "final:1", "[4]"));
  CHECK_FALSE(storage->add_artifact(id, "final", "[5]"));
  CHECK(storage->artifact(id, "final:1") == "[3]");
  CHECK(storage->artifact(id, "final") == "[2]");
  CHECK_THROWS_AS(storage->add_artifact(id + 7, "x", "{}"), StorageError);
}

TEST_CASE_TEMPLATE("storage: a deferred copy has no task until the search stores the result it copies", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  auto storage = open_storage(backend.fresh(), OpenMode::Create);
  SearchId id = make_search(*storage, 0);
  NewCandidate first = candidate(0), copy = candidate(0);
  copy.deferred = true;
  CHECK(storage->enqueue_batch(id, 0, {first, copy}) == 0);
  CHECK(storage->counts(id).queued == 1);  // only the first trains
  std::optional<ClaimedTask> task = storage->claim(id, "w");
  REQUIRE(task);
  CHECK(task->candidate.index == 0);
  CHECK_FALSE(storage->claim(id, "w"));
  EvaluationResult trained;
  trained.metric = trained.reward = 0.75;
  REQUIRE(storage->finish(task->lease, trained));

  EvaluationResult hit = trained;
  hit.source = search::Source::CacheHit;
  hit.reused_from = 0;
  storage->store_result(id, 1, hit);
  std::vector<Evaluation> copied = storage->evaluations(id, 1);
  REQUIRE(copied.size() == 1);
  CHECK(copied[0].accepted);
  CHECK(copied[0].source == search::Source::CacheHit);
  CHECK(copied[0].reused_from == 0);
  CHECK(copied[0].reward == 0.75);
  CHECK(storage->top(id, 0).size() == 1);  // the same rule, listed once
  CHECK_THROWS_WITH_AS(storage->store_result(id, 1, hit), doctest::Contains("candidate 1 has a stage-1 result already"),
                       StorageError);
  CHECK_THROWS_WITH_AS(storage->store_result(id, 0, hit), doctest::Contains("candidate 0 has a stage-1 task"),
                       StorageError);
  CHECK_THROWS_WITH_AS(storage->store_result(id, 9, hit), doctest::Contains("has no candidate 9"), StorageError);
  NewCandidate both = candidate(1);
  both.deferred = true;
  both.resolved = EvaluationResult{};
  CHECK_THROWS_AS(storage->enqueue_batch(id, 1, {both}), StorageError);
}

TEST_CASE("storage: a read-only file is refused for writing, a corrupt one for everything") {
  TempDir dir;
  std::string path = dir.file("s.db");
  {
    auto storage = open_storage(path, OpenMode::Create);
    SearchId id = make_search(*storage, 40);
    for (int i = 0; i < 40; ++i) {
      auto claimed = storage->claim(id, "w");
      storage->finish(claimed->lease, ok_result(i));
    }
  }  // the last connection closes: the WAL is checkpointed into the file

  // Permissions do not stop root, so the read-only case runs as an unprivileged user.
  chmod(dir.path().c_str(), 0755);
  chmod(path.c_str(), 0444);
  int status = in_child([&] {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      if (geteuid() == 0) return 77;  // cannot drop privileges: nothing to test
    }
    std::string error = open_error(path, OpenMode::Open);
    if (error != path + ": read-only: a search writes to its database (check the file's permissions)") {
      fprintf(stderr, "got: %s\n", error.c_str());
      return 1;
    }
    return 0;
  });
  if (status == 77) MESSAGE("[SKIP] read-only check: cannot drop root privileges");
  else CHECK(status == 0);

  // Readers (status, top) still read it, even where the directory is read-only too (they create
  // no -shm file beside it, wherever they read).
  for (mode_t dir_mode : {0555, 0777}) {
    chmod(dir.path().c_str(), dir_mode);
    status = in_child([&] {
      if (setgid(65534) != 0 || setuid(65534) != 0) {
        if (geteuid() == 0) return 77;
      }
      auto reader = open_storage(path, OpenMode::ReadOnly);
      auto searches = reader->searches();
      if (searches.size() != 1 || reader->counts(searches[0].id).finished != 40 ||
          reader->top(searches[0].id, 3).size() != 3)
        return 1;
      return 0;
    });
    if (status == 77) MESSAGE("[SKIP] read-only reader check: cannot drop root privileges");
    else CHECK_MESSAGE(status == 0, "directory mode ", dir_mode);
  }
  chmod(dir.path().c_str(), 0755);
  chmod(path.c_str(), 0644);

  // Overwrite everything after the header page: the integrity check on opening catches it.
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    std::string garbage(16 * 4096, '\xa5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  std::string error = open_error(path, OpenMode::Open);
  CHECK(error.starts_with(path + ": the database is corrupt"));
  CHECK(open_error(path, OpenMode::ReadOnly).starts_with(path + ": the database is corrupt"));
}

TEST_CASE("storage: a FIFO or a device is refused at once, naming it, in every mode") {
  TempDir dir;
  std::string fifo = dir.file("pipe.db");
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  // Through a symbolic link too: what it points to is what would be opened.
  std::string link = dir.file("link.db");
  std::filesystem::create_symlink(fifo, link);
  // In a child with an alarm: SQLite would wait on the FIFO for a writer forever.
  int status = in_child([&] {
    alarm(20);
    for (OpenMode mode : {OpenMode::Create, OpenMode::Open, OpenMode::OpenOrCreate, OpenMode::ReadOnly})
      if (open_error(fifo, mode) != fifo + ": is a FIFO (named pipe), not a search database") return 1;
    if (open_error(link, OpenMode::ReadOnly) != link + ": is a FIFO (named pipe), not a search database") return 2;
    if (open_error("/dev/null", OpenMode::ReadOnly) != "/dev/null: is a character device, not a search database") return 3;
    if (open_error("/dev/zero", OpenMode::Open) != "/dev/zero: is a character device, not a search database") return 4;
    return 0;
  });
  CHECK(status == 0);
}

// The names and sizes of what a directory holds.
static std::map<std::string, std::uintmax_t> listing(const std::filesystem::path& dir) {
  std::map<std::string, std::uintmax_t> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    out[entry.path().filename().string()] = entry.is_regular_file() ? entry.file_size() : 0;
  return out;
}

TEST_CASE("storage: reading a database leaves nothing beside it, and a live one is read through its journal") {
  TempDir dir;
  std::string path = dir.file("s.db");
  SearchId id;
  {
    auto storage = open_storage(path, OpenMode::Create);
    id = make_search(*storage, 3);
    auto claimed = storage->claim(id, "w");
    REQUIRE(storage->finish(claimed->lease, ok_result(0.5)));
  }  // the last connection closes: the WAL is checkpointed into the file and removed
  const auto finished = listing(dir.path());
  REQUIRE(finished.size() == 1);
  {
    auto reader = open_storage(path, OpenMode::ReadOnly);
    CHECK(reader->counts(id).finished == 1);
    CHECK(reader->top(id, 5).size() == 1);
    CHECK(listing(dir.path()) == finished);  // no DB-wal, no DB-shm, not even while open
  }
  CHECK(listing(dir.path()) == finished);

  // A search running: its -wal and -shm exist; a reader uses them and sees its latest commit.
  auto writer = open_storage(path, OpenMode::Open);
  auto claimed = writer->claim(id, "w");
  REQUIRE(writer->finish(claimed->lease, ok_result(0.75)));
  CHECK(std::filesystem::exists(path + "-wal"));
  {
    auto reader = open_storage(path, OpenMode::ReadOnly);
    CHECK(reader->counts(id).finished == 2);
  }
  auto next = writer->claim(id, "w");  // and the writer goes on writing
  REQUIRE(writer->finish(next->lease, ok_result(0.25)));
  writer.reset();
  CHECK(listing(dir.path()).size() == 1);  // the writer's close removes its journal, as before
  CHECK(open_storage(path, OpenMode::ReadOnly)->counts(id).finished == 3);
}

TEST_CASE("storage: a search killed with its journal beside it is read through that journal, left as it was") {
  TempDir dir;
  std::string path = dir.file("s.db");
  int status = in_child([&] {
    auto storage = open_storage(path, OpenMode::Create);
    SearchId made = make_search(*storage, 2);
    auto claimed = storage->claim(made, "w");
    storage->finish(claimed->lease, ok_result(0.5));
    raise(SIGKILL);  // no close: the commit is in DB-wal only
    return 1;
  });
  REQUIRE(status == 128 + SIGKILL);
  REQUIRE(std::filesystem::exists(path + "-wal"));
  const auto killed = listing(dir.path());
  {
    auto reader = open_storage(path, OpenMode::ReadOnly);
    SearchId id = reader->searches().at(0).id;
    CHECK(reader->counts(id).finished == 1);  // the commit in the journal is read
  }
  auto after = listing(dir.path());
  CHECK(after.size() == killed.size());
  for (const auto& [name, size] : killed) CHECK(after.count(name) == 1);
}

TEST_CASE_TEMPLATE("storage: a search's stored configuration can be replaced (a resumed run's budgets)", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  std::string location = backend.fresh();
  SearchId id;
  {
    auto storage = open_storage(location, OpenMode::Create);
    id = make_search(*storage, 1);
    storage->update_config(id, R"({"budget":60})");
    CHECK(storage->find_search("s")->config_json == R"({"budget":60})");
    CHECK_THROWS_WITH_AS(storage->update_config(id + 7, "{}"), doctest::Contains("no search with id"), StorageError);
  }
  auto reader = open_storage(location, OpenMode::ReadOnly);
  CHECK(reader->searches().at(0).config_json == R"({"budget":60})");
  CHECK_THROWS_WITH_AS(reader->update_config(id, "{}"), doctest::Contains("opened read-only"), StorageError);
}

TEST_CASE("storage: a URL's password never appears in messages") {
  CHECK(mask_password("postgresql://nos:secret@db.example:5433/search") == "postgresql://nos:***@db.example:5433/search");
  CHECK(mask_password("postgres://nos@db/search") == "postgres://nos@db/search");
  CHECK(mask_password("postgresql://db/search?user=nos&password=secret&sslmode=require") ==
        "postgresql://db/search?user=nos&password=***&sslmode=require");
  CHECK(mask_password("postgresql://a:b@c@h/d") == "postgresql://a:***@h/d");
  CHECK(mask_password("runs/search?password=.db") == "runs/search?password=.db");  // a path is a path
}

#ifdef NOS_HAVE_POSTGRES
namespace {

using testing::FreshPostgresDatabase;
using testing::PostgresUrlParts;

// The conformance cases' server, or nullopt after printing [SKIP].
std::optional<std::string> postgres_server() {
  std::optional<std::string> server = testing::postgres_test_url();
  if (!server) MESSAGE(std::string(testing::kNoPostgres));
  return server;
}

}  // namespace

TEST_CASE("storage (PostgreSQL): URLs, credentials and databases that cannot be used get a clear error naming the URL") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  PostgresUrlParts parts = PostgresUrlParts::parse(*server);

  std::string bad = "postgresql://nos@127.0.0.1/x?colour=blue";
  CHECK(open_error(bad, OpenMode::Open).starts_with(bad + ": not a valid PostgreSQL URL: "));

  PostgresUrlParts refused = parts;
  refused.host = "127.0.0.1";
  refused.port = "1";  // nothing listens there
  refused.password = "secret";
  std::string error = open_error(refused.url(), OpenMode::Open);
  CHECK(error.starts_with(mask_password(refused.url()) + ": cannot connect: "));
  CHECK(error.find("secret") == std::string::npos);
  CHECK(error.find("refused") != std::string::npos);

  PostgresUrlParts wrong = parts;
  wrong.password = "not-the-password";
  error = open_error(wrong.url(), OpenMode::Open);
  CHECK(error.starts_with(mask_password(wrong.url()) + ": cannot connect: "));
  CHECK(error.find("password authentication failed") != std::string::npos);
  CHECK(error.find("not-the-password") == std::string::npos);

  PostgresUrlParts missing = parts;
  missing.dbname = "nos_no_such_database";
  error = open_error(missing.url(), OpenMode::Open);
  CHECK(error.starts_with(mask_password(missing.url()) + ": cannot connect: "));
  CHECK(error.find("\"nos_no_such_database\" does not exist") != std::string::npos);

  // An empty database is a fine place to start (Create, OpenOrCreate), not a search to open.
  FreshPostgresDatabase empty(*server);
  const std::string masked = mask_password(empty.url());
  CHECK(open_error(empty.url(), OpenMode::Open) == masked + ": not a NOS search database (the database is empty)");
  CHECK(open_error(empty.url(), OpenMode::ReadOnly) == masked + ": not a NOS search database (the database is empty)");
  {
    auto storage = open_storage(empty.url(), OpenMode::OpenOrCreate);
    CHECK(storage->location() == masked);
    storage->create_search("a", "{}", {});
  }
  {
    // Create on a NOS search database adds a search to it: several searches share one database.
    auto storage = open_storage(empty.url(), OpenMode::Create);
    storage->create_search("b", "{}", {});
    CHECK(storage->searches().size() == 2);
    CHECK_THROWS_WITH_AS(storage->create_search("a", "{}", {}), doctest::Contains("a search named 'a' exists already"),
                         StorageError);
  }
  auto reader = open_storage(empty.url(), OpenMode::ReadOnly);
  CHECK(reader->searches().size() == 2);
  CHECK_THROWS_WITH_AS(reader->create_search("c", "{}", {}), doctest::Contains(": opened read-only"), StorageError);

  FreshPostgresDatabase other(*server);
  testing::postgres_sql(other.url(), "CREATE TABLE trials (id INTEGER)");
  CHECK(open_error(other.url(), OpenMode::OpenOrCreate) ==
        mask_password(other.url()) + ": not a NOS search database (a PostgreSQL database with tables but without nos_schema)");

  FreshPostgresDatabase stranger(*server);
  testing::postgres_sql(stranger.url(), "CREATE TABLE nos_schema (application TEXT, version INTEGER, created_at REAL);"
                                        "INSERT INTO nos_schema VALUES ('optuna', 1, 0)");
  CHECK(open_error(stranger.url(), OpenMode::Open)
            .starts_with(mask_password(stranger.url()) + ": not a NOS search database (nos_schema"));

  FreshPostgresDatabase versions(*server);
  const std::string name = mask_password(versions.url());
  open_storage(versions.url(), OpenMode::Create);
  testing::postgres_sql(versions.url(), "UPDATE nos_schema SET version = 99");
  CHECK(open_error(versions.url(), OpenMode::Open) ==
        name + ": schema version 99 is newer than this NOS reads (5): use a newer nos-search");
  testing::postgres_sql(versions.url(), "UPDATE nos_schema SET version = 0");
  CHECK(open_error(versions.url(), OpenMode::Open) == name + ": schema version 0 cannot be migrated to 5 (no migration from 0)");
  CHECK(open_error(versions.url(), OpenMode::ReadOnly).starts_with(name + ": schema version 0 is older than 5"));
}

// PostgreSQL's side of the SQLite plan case: its planner orders joins from statistics, so this
// checks only that the version-3 indexes serve the policy's texts there too: with sequential scans
// priced out, each per-batch read uses candidates_by_batch and no text is left scanning a table.
TEST_CASE("storage (PostgreSQL): a batch's reads and the search's counts are served by indexes") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase database(*server);
  SearchId id = 0;
  {
    auto storage = open_storage(database.url(), OpenMode::Create);
    id = make_search(*storage, 3);
    storage->enqueue_batch(id, 1, {candidate(3), candidate(4)});
  }
  auto plan = [&](const std::string& sql, bool one_batch) {
    // A generic plan: the parameters' values cannot simplify the text the driver sends.
    return testing::postgres_rows(database.url(),
                                  fmt::format("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; "
                                              "PREPARE q AS {}; EXPLAIN EXECUTE q({}{})",
                                              sql, id, one_batch ? ", 1" : ""));
  };
  auto joined = [](const std::vector<std::string>& lines) { return fmt::format("{}", fmt::join(lines, "\n")); };
  for (const std::string& sql : {storage::queries::evaluations_of_batch(), storage::queries::task_counts(true),
                                 storage::queries::resolved_count(true)}) {
    CAPTURE(sql);
    const std::string steps = joined(plan(sql, true));
    CAPTURE(steps);
    CHECK(steps.find("candidates_by_batch") != std::string::npos);
    CHECK(steps.find("Seq Scan") == std::string::npos);
  }
  for (const std::string& sql : {storage::queries::task_counts(false), storage::queries::resolved_count(false)}) {
    const std::string steps = joined(plan(sql, false));
    CAPTURE(steps);
    CHECK(steps.find("Seq Scan") == std::string::npos);
  }
}

TEST_CASE_TEMPLATE("storage: claimers in threads, each with its own connection, never get the same task", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  const std::string url = backend.fresh();
  const int n = 120, threads = 6;
  SearchId id;
  {
    auto storage = open_storage(url, OpenMode::Create);
    id = make_search(*storage, n);
  }
  std::vector<std::vector<std::int64_t>> claimed(threads);
  std::vector<std::string> errors(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        auto storage = open_storage(url, OpenMode::Open);
        while (auto task = storage->claim(id, "thread-" + std::to_string(t))) {
          claimed[t].push_back(task->lease.candidate);
          if (!storage->finish(task->lease, ok_result(static_cast<double>(task->lease.candidate))))
            errors[t] = "a finish was refused";
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::map<std::int64_t, int> times;
  int busy = 0;
  for (int t = 0; t < threads; ++t) {
    CHECK_MESSAGE(errors[t].empty(), errors[t]);
    for (std::int64_t c : claimed[t]) ++times[c];
    busy += !claimed[t].empty();
  }
  CHECK(times.size() == n);
  for (auto [candidate, count] : times) CHECK_MESSAGE(count == 1, "candidate ", candidate);
  auto storage = open_storage(url, OpenMode::ReadOnly);
  std::vector<Evaluation> all = storage->evaluations(id);
  CHECK(all.size() == n);
  for (const Evaluation& e : all) CHECK(e.accepted);
  CHECK(storage->counts(id).finished == n);
  MESSAGE(busy << " of " << threads << " threads got work");
}

TEST_CASE_TEMPLATE("storage: a worker presumed dead cannot finish what another connection took over", Backend, SqliteBackend, PostgresBackend) {
  Backend backend;
  if (backend.skip()) return;
  const std::string url = backend.fresh();
  auto first = open_storage(url, OpenMode::Create);
  SearchId id = make_search(*first, 1, {0.2, 3, 0});
  auto second = open_storage(url, OpenMode::Open);
  auto a = first->claim(id, "machine-a:1");
  REQUIRE(a);
  sleep_seconds(0.3);
  auto b = second->claim(id, "machine-b:1");  // the server's clock says a's lease expired
  REQUIRE(b);
  CHECK(b->lease.attempt == 2);
  CHECK_FALSE(first->heartbeat(a->lease));
  CHECK_FALSE(first->finish(a->lease, ok_result(0.1)));
  CHECK(second->finish(b->lease, ok_result(0.9)));
  std::vector<Evaluation> e = first->evaluations(id, 0);
  REQUIRE(e.size() == 3);
  int accepted = 0;
  for (const Evaluation& x : e) accepted += x.accepted;
  CHECK(accepted == 1);
  CHECK(first->lookup_by_hash(id, fmt_hash(0))->metric == 0.9);
}

TEST_CASE("storage (PostgreSQL): a waiting worker wakes when work is enqueued, and times out without") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto controller = open_storage(db.url(), OpenMode::Create);
  SearchId id = controller->create_search("s", "{}", {});
  auto worker = open_storage(db.url(), OpenMode::Open);
  CHECK(worker->notifies());
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(worker->wait_for_work(id, 0.2));  // nothing: the full timeout
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  std::thread enqueue([&] {
    sleep_seconds(0.2);
    controller->enqueue_batch(id, 0, {candidate(0)});
  });
  start = std::chrono::steady_clock::now();
  bool woken = worker->wait_for_work(id, 20);
  enqueue.join();
  CHECK(woken);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));  // woken, not timed out
  CHECK(worker->claim(id, "w"));
}

TEST_CASE("storage (PostgreSQL): searches share one database, and an enqueue notifies the search's channel") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto storage = open_storage(db.url(), OpenMode::Create);
  SearchId a = storage->create_search("a", "{}", {});
  SearchId b = storage->create_search("b", "{}", {});

  PGconn* listener = PQconnectdb(db.url().c_str());
  REQUIRE(PQstatus(listener) == CONNECTION_OK);
  PQclear(PQexec(listener, ("LISTEN nos_search_" + std::to_string(b)).c_str()));

  storage->enqueue_batch(a, 0, {candidate(0), candidate(1)});
  storage->enqueue_batch(b, 0, {candidate(0)});
  std::vector<std::string> channels;
  for (int i = 0; i < 200 && channels.empty(); ++i) {  // up to 2 s
    PQconsumeInput(listener);
    while (PGnotify* n = PQnotifies(listener)) {
      channels.push_back(n->relname);
      PQfreemem(n);
    }
    if (channels.empty()) sleep_seconds(0.01);
  }
  PQfinish(listener);
  CHECK(channels == std::vector<std::string>{"nos_search_" + std::to_string(b)});  // only b's channel was listened to

  // Indices and queues are per search.
  CHECK(storage->candidates(b).size() == 1);
  CHECK(storage->candidates(b)[0].index == 0);
  auto task = storage->claim(b, "w");
  REQUIRE(task);
  CHECK(task->lease.search == b);
  CHECK_FALSE(storage->claim(b, "w"));
  CHECK(storage->counts(a).queued == 2);
}
#endif

}  // namespace nos::search
