// The PostgreSQL storage when its connection is lost: sessions ended from another connection
// (pg_terminate_backend, as a server restart ends them) are reconnected and the operation runs
// again; a commit whose acknowledgement was lost is recognized on the retry (nothing stored twice,
// nothing refused that was accepted); LISTEN and the run lock come back with the connection; a
// database that stays away is a clear error after the retry time. And the run lock of both backends.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "controller/search/storage.h"
#include "tests/search/temp_dir.h"

#ifdef NOS_HAVE_POSTGRES
#include "controller/search/storage/postgres/postgres_storage.h"
#include "tests/search/postgres_test_db.h"
#endif

namespace nos::search {
namespace {

std::string lock_error(Storage& storage, SearchId search) {
  try {
    storage.lock_search(search);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}

NewCandidate candidate(const std::string& tokens) {
  NewCandidate c;
  c.tokens = tokens;
  c.rule = "rule " + tokens;
  c.hash = "hash" + tokens;
  return c;
}

}  // namespace

TEST_CASE("storage (SQLite): one run per search file: a second lock is refused naming the file, free once closed") {
  testing::TempDir dir;
  std::string path = dir.file("s.db");
  SearchId id = 0;
  {
    auto first = open_storage(path, OpenMode::Create);
    id = first->create_search("s", "{}", LeasePolicy{});
    first->lock_search(id);
    auto second = open_storage(path, OpenMode::Open);
    CHECK(lock_error(*second, id) == path + ": another nos-search run is working on this search (wait for it, or stop it)");
  }
  auto third = open_storage(path, OpenMode::Open);
  CHECK(lock_error(*third, id).empty());
}

#ifdef NOS_HAVE_POSTGRES
namespace {

using testing::FreshPostgresDatabase;

std::optional<std::string> postgres_server() {
  std::optional<std::string> server = testing::postgres_test_url();
  if (!server) MESSAGE(std::string(testing::kNoPostgres));
  return server;
}

// Ends every other session on the database (what a restart of the server does to them), and
// waits until they are gone.
void terminate_sessions(const std::string& url) {
  testing::postgres_sql(url, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

std::unique_ptr<Storage> open_pg(const std::string& url, OpenMode mode = OpenMode::Open) {
  return std::make_unique<PostgresStorage>(url, mode);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("storage (PostgreSQL): a connection ended by the server is reconnected and every operation goes on") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto controller = open_pg(db.url(), OpenMode::Create);
  SearchId id = controller->create_search("s", "{}", LeasePolicy{});
  controller->enqueue_batch(id, 0, {candidate("a"), candidate("b"), candidate("c")});
  auto worker = open_pg(db.url());

  terminate_sessions(db.url());
  std::optional<ClaimedTask> task = worker->claim(id, "w1");  // reconnects, then claims
  REQUIRE(task);
  CHECK(task->candidate.tokens == "a");
  terminate_sessions(db.url());
  CHECK(worker->heartbeat(task->lease));
  terminate_sessions(db.url());
  EvaluationResult result;
  result.reward = 0.5;
  CHECK(worker->finish(task->lease, result));  // the result is kept until written
  terminate_sessions(db.url());
  TaskCounts counts = controller->counts(id);
  CHECK(counts.finished == 1);
  CHECK(counts.queued == 2);
  std::vector<Evaluation> stored = controller->evaluations(id);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].accepted);
  CHECK(stored[0].reward == 0.5);
}

TEST_CASE("storage (PostgreSQL): a waiting worker listens again after a reconnect") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto controller = open_pg(db.url(), OpenMode::Create);
  SearchId id = controller->create_search("s", "{}", LeasePolicy{});
  auto worker = open_pg(db.url());
  CHECK_FALSE(worker->wait_for_work(id, 0.05));  // LISTENs from now on
  terminate_sessions(db.url());
  // Woken by the reconnect: notifications sent meanwhile are lost, so it looks for work at once.
  auto start = std::chrono::steady_clock::now();
  CHECK(worker->wait_for_work(id, 30));
  std::thread enqueue([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto other = open_pg(db.url());
    other->enqueue_batch(id, 0, {candidate("a")});
  });
  CHECK(worker->wait_for_work(id, 30));  // the NOTIFY reaches the new session
  enqueue.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("storage (PostgreSQL): a commit whose acknowledgement was lost is not repeated on the retry") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto pg = std::make_unique<PostgresStorage>(db.url(), OpenMode::Create);
  PostgresStorage* s = pg.get();
  Storage& storage = *pg;

  s->lose_next_commit_acknowledgement_for_testing();
  SearchId id = s->create_search("s", "{\"x\": 1}", LeasePolicy{});
  CHECK(s->searches().size() == 1);
  CHECK(s->find_search("s")->id == id);

  s->lose_next_commit_acknowledgement_for_testing();
  CHECK(s->enqueue_batch(id, 0, {candidate("a"), candidate("b")}) == 0);
  CHECK(storage.candidates(id).size() == 2);
  CHECK(s->enqueue_batch(id, 1, {candidate("c")}) == 2);  // the sequence goes on without a gap
  CHECK(storage.counts(id).queued == 3);

  // A claim that nobody got: the task is handed back, not left running until its lease expires.
  s->lose_next_commit_acknowledgement_for_testing();
  std::optional<ClaimedTask> task = s->claim(id, "w1");
  REQUIRE(task);
  std::vector<Lease> running = s->running(id);
  REQUIRE(running.size() == 1);
  CHECK(running[0].task == task->lease.task);
  CHECK(running[0].attempt == task->lease.attempt);

  s->lose_next_commit_acknowledgement_for_testing();
  EvaluationResult result;
  result.reward = 0.25;
  CHECK(s->finish(task->lease, result));  // accepted the first time: so it says
  std::vector<Evaluation> of_candidate = storage.evaluations(id, task->candidate.index);
  REQUIRE(of_candidate.size() == 1);
  CHECK(of_candidate[0].accepted);

  s->lose_next_commit_acknowledgement_for_testing();
  std::int64_t stage2 = s->enqueue_stage(id, task->candidate.index, 2);
  CHECK(s->has_task(id, task->candidate.index, 2));
  CHECK_THROWS_WITH_AS(s->enqueue_stage(id, task->candidate.index, 2),
                       doctest::Contains("already has a stage-2 task"), StorageError);  // without a lost ack: refused
  (void)stage2;

  // A deferred copy's stored result.
  NewCandidate copy = candidate("d");
  copy.deferred = true;
  std::int64_t first = s->enqueue_batch(id, 2, {copy});
  EvaluationResult reused;
  reused.source = search::Source::CacheHit;
  reused.reused_from = 0;
  s->lose_next_commit_acknowledgement_for_testing();
  s->store_result(id, first, reused);
  std::vector<Evaluation> copies = storage.evaluations(id, first);
  REQUIRE(copies.size() == 1);
  CHECK(copies[0].source == search::Source::CacheHit);
  CHECK_THROWS_WITH_AS(s->store_result(id, first, reused), doctest::Contains("has a stage-1 result already"),
                       StorageError);
}

TEST_CASE("storage (PostgreSQL): a stale worker's result after a reconnect is refused by the fencing token") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto controller = open_pg(db.url(), OpenMode::Create);
  SearchId id = controller->create_search("s", "{}", LeasePolicy{0.3, 3, 0});
  controller->enqueue_batch(id, 0, {candidate("a")});
  auto stale = open_pg(db.url());
  std::optional<ClaimedTask> first = stale->claim(id, "w1");
  REQUIRE(first);
  terminate_sessions(db.url());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its lease expires while it is away
  std::optional<ClaimedTask> second = controller->claim(id, "w2");
  REQUIRE(second);
  CHECK(second->lease.attempt == first->lease.attempt + 1);
  EvaluationResult result;
  result.reward = 0.1;
  CHECK_FALSE(stale->heartbeat(first->lease));
  CHECK_FALSE(stale->finish(first->lease, result));  // reconnected, then refused
  result.reward = 0.2;
  CHECK(controller->finish(second->lease, result));
  int accepted = 0;
  for (const Evaluation& e : controller->evaluations(id)) accepted += e.accepted && e.stage == 1;
  CHECK(accepted == 1);
}

TEST_CASE("storage (PostgreSQL): a database that stays away is a clear error after the retry time") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  ScopedEnv retry("NOS_DB_RETRY_SECONDS", "1");
  auto s = open_pg(db.url(), OpenMode::Create);
  s->create_search("s", "{}", LeasePolicy{});
  terminate_sessions(db.url());
  testing::postgres_sql(*server, "ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  auto start = std::chrono::steady_clock::now();
  std::string message;
  try {
    s->searches();
  } catch (const StorageError& e) {
    message = e.what();
  }
  testing::postgres_sql(*server, "ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");
  CHECK(message.find(mask_password(db.url()) + ": lost the connection to the database and could not reconnect within "
                     "1 s: ") == 0);
  CHECK(message.find("not currently accepting connections") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));

  ScopedEnv bad("NOS_DB_RETRY_SECONDS", "soon");
  CHECK_THROWS_WITH_AS(open_pg(db.url()), "NOS_DB_RETRY_SECONDS: expected seconds (a number >= 0), not 'soon'",
                       StorageError);
}

TEST_CASE("storage (PostgreSQL): one run per search: the advisory lock refuses a second, comes back after a reconnect") {
  std::optional<std::string> server = postgres_server();
  if (!server) return;
  FreshPostgresDatabase db(*server);
  auto run = open_pg(db.url(), OpenMode::Create);
  SearchId id = run->create_search("alpha", "{}", LeasePolicy{});
  SearchId other = run->create_search("beta", "{}", LeasePolicy{});
  run->lock_search(id);
  const std::string refused =
      mask_password(db.url()) + ": another nos-search run is working on search 'alpha' (wait for it, or stop it)";
  CHECK(lock_error(*open_pg(db.url()), id) == refused);
  CHECK(lock_error(*open_pg(db.url()), other).empty());  // another search of the same database

  terminate_sessions(db.url());
  CHECK(run->searches().size() == 2);  // reconnected, the lock taken again
  CHECK(lock_error(*open_pg(db.url()), id) == refused);

  // Another run takes the search while this one is disconnected: this one stops with a clear error.
  terminate_sessions(db.url());
  auto second = open_pg(db.url());
  second->lock_search(id);
  CHECK_THROWS_WITH_AS(run->searches(),
                       doctest::Contains("another nos-search run took search 'alpha' while this one was disconnected"),
                       StorageError);
}
#endif

}  // namespace nos::search
