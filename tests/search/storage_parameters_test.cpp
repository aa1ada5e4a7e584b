// The parameter server of controller replicas (storage.h), on both drivers (a fresh SQLite file; a
// fresh PostgreSQL database where NOS_TEST_POSTGRES_URL names a server, else [SKIP]): versions,
// batches claimed once, an update applied only against the version it was computed from, refused
// updates, the history kept and its old bytes emptied, and the version-4 -> 5 migration.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controller/search/storage.h"
#include "tests/search/temp_dir.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif
#include <sqlite3.h>

namespace nos::search {
namespace {

struct SqliteDb {
  testing::TempDir dir;
  int made = 0;
  bool skip() const { return false; }
  std::string fresh() { return dir.file("p" + std::to_string(made++) + ".db"); }
  void sql(const std::string& path, const std::string& statements) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    REQUIRE_MESSAGE(rc == SQLITE_OK, message);
  }
};

struct PostgresDb {
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
  void sql(const std::string& url, const std::string& statements) { testing::postgres_sql(url, statements); }
#else
  bool skip() const {
    MESSAGE("[SKIP] PostgreSQL storage: not built (no libpq)");
    return true;
  }
  std::string fresh() { return ""; }
  void sql(const std::string&, const std::string&) {}
#endif
};

}  // namespace
}  // namespace nos::search

TYPE_TO_STRING_AS("SQLite", nos::search::SqliteDb);
TYPE_TO_STRING_AS("PostgreSQL", nos::search::PostgresDb);

namespace nos::search {

TEST_CASE_TEMPLATE("parameter server: versions, claimed batches, compare-and-swap updates, refusals", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  std::string where = db.fresh();
  auto storage = open_storage(where, OpenMode::Create);
  SearchId id = storage->create_search("s", "{}", {});
  CHECK_FALSE(storage->latest_parameters(id));
  CHECK(storage->init_parameters(id, std::string("p0\0x", 4)));
  CHECK_FALSE(storage->init_parameters(id, "other"));  // the first one stays
  REQUIRE(storage->latest_parameters(id));
  CHECK(storage->latest_parameters(id)->version == 0);
  CHECK(storage->latest_parameters(id)->bytes == std::string("p0\0x", 4));

  // Batch numbers: the next free one, or a given one, each claimed once, all below the limit.
  CHECK(storage->claim_replica_batch(id, "r0", std::nullopt, 4, 0, "local-a") == 0);
  CHECK(storage->claim_replica_batch(id, "r1", std::nullopt, 4, 0, "local-b") == 1);
  CHECK_FALSE(storage->claim_replica_batch(id, "r1", 1, 4, 0, "again"));  // claimed already
  CHECK(storage->claim_replica_batch(id, "r1", 3, 4, 0, "local-c") == 3);
  CHECK_FALSE(storage->claim_replica_batch(id, "r0", 4, 4, 0, "x"));   // at the limit
  CHECK_FALSE(storage->claim_replica_batch(id, "r0", std::nullopt, 4, 0, "x"));  // next is 4

  // r0's update against version 0 is applied as version 1; r1's, also computed against 0, is
  // refused (nothing changes) until recomputed against 1.
  CHECK(storage->push_update(id, 0, 0, "p1") == 1);
  CHECK_FALSE(storage->push_update(id, 1, 0, "stale"));
  CHECK(storage->latest_parameters(id)->bytes == "p1");
  CHECK(storage->push_update(id, 1, 1, "p2") == 2);
  CHECK_THROWS_AS(storage->push_update(id, 1, 2, "twice"), StorageError);  // applied already
  storage->refuse_update(id, 3, 2);
  CHECK_THROWS_AS(storage->push_update(id, 3, 2, "late"), StorageError);

  std::vector<ReplicaBatch> batches = storage->replica_batches(id);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].replica == "r0");
  CHECK(batches[0].state == "applied");
  CHECK(batches[0].version == 1);
  CHECK(batches[0].staleness == 0);
  CHECK(batches[1].state == "applied");
  CHECK(batches[1].base_version == 1);
  CHECK(batches[1].staleness == 1);  // sampled with 0, applied on 1
  CHECK(batches[1].ended_at);
  CHECK(batches[2].state == "refused");
  CHECK(batches[2].staleness == 2);
  CHECK_FALSE(batches[2].version);
  CHECK(storage->replica_batches(id, "r1").size() == 2);
  CHECK(storage->replica_local_state(id, "r0") == "local-a");
  CHECK(storage->replica_local_state(id, "r1") == "local-c");  // its last claimed batch's
  CHECK(storage->replica_local_state(id, "r9") == "");

  // The history: every version with its replica and batch; the bytes of the newest two only.
  std::vector<ParameterVersion> history = storage->parameter_history(id);
  REQUIRE(history.size() == 3);
  CHECK(history[0].replica == "");
  CHECK_FALSE(history[0].batch);
  CHECK(history[1].replica == "r0");
  CHECK(history[1].batch == 0);
  CHECK(history[2].replica == "r1");
  CHECK(history[2].batch == 1);
  CHECK_FALSE(storage->parameters_at(id, 0));  // emptied
  CHECK(storage->parameters_at(id, 1)->bytes == "p1");

  // Durable: a reader sees the same after reopening.
  storage.reset();
  auto reader = open_storage(where, OpenMode::ReadOnly);
  CHECK(reader->latest_parameters(id)->version == 2);
  CHECK(reader->replica_batches(id).size() == 3);
}

TEST_CASE_TEMPLATE("parameter server: concurrent pushes against one version: exactly one is applied", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  std::string where = db.fresh();
  SearchId id;
  {
    auto storage = open_storage(where, OpenMode::Create);
    id = storage->create_search("s", "{}", {});
    storage->init_parameters(id, "p0");
    for (int i = 0; i < 4; ++i) REQUIRE(storage->claim_replica_batch(id, "r" + std::to_string(i), std::nullopt, 10, 0, ""));
  }
  std::vector<std::optional<std::int64_t>> applied(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto storage = open_storage(where, OpenMode::Open);
      applied[static_cast<std::size_t>(i)] = storage->push_update(id, i, 0, "p" + std::to_string(i));
    });
  for (std::thread& t : threads) t.join();
  int winners = 0;
  for (const auto& a : applied) winners += a.has_value();
  CHECK(winners == 1);
  CHECK(open_storage(where, OpenMode::ReadOnly)->latest_parameters(id)->version == 1);
}

// Version 5 adds the parameter server's tables: a version-4 database gets them on its first
// writable open, with its data kept.
TEST_CASE_TEMPLATE("parameter server: a version-4 database gets the parameter tables on its first writable open", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  std::string where = db.fresh();
  SearchId id;
  {
    auto storage = open_storage(where, OpenMode::Create);
    id = storage->create_search("s", "{}", {});
  }
  db.sql(where, "DROP TABLE replica_batches; DROP TABLE controller_parameters; UPDATE nos_schema SET version = 4");
  {
    auto storage = open_storage(where, OpenMode::Open);
    CHECK(storage->find_search("s")->id == id);
    CHECK(storage->init_parameters(id, "p0"));
    CHECK(storage->claim_replica_batch(id, "r0", std::nullopt, 1, 0, "") == 0);
  }
  CHECK(open_storage(where, OpenMode::ReadOnly)->replica_batches(id).size() == 1);
}

}  // namespace nos::search
