// Controller replicas in one process (controller/search/replica_loop.h), on the synthetic child
// with worker threads, on SQLite and PostgreSQL (NOS_TEST_POSTGRES_URL, else [SKIP]): one replica
// is the single-controller search (the same candidates, results and final controller state), the
// synchronous mode reproduces itself, several asynchronous replicas finish with exactly one
// accepted result per candidate and a parameter version equal to the number of applied updates.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controller/lstm/lstm_strategy.h"
#include "controller/search/replica_loop.h"
#include "controller/search/search_loop.h"
#include "controller/search/synthetic_child.h"
#include "controller/search/worker_loop.h"
#include "tests/search/temp_dir.h"
#ifdef NOS_HAVE_POSTGRES
#include "tests/search/postgres_test_db.h"
#endif

namespace nos::search {
namespace {

struct SqliteDb {
  testing::TempDir dir;
  int made = 0;
  bool skip() const { return false; }
  std::string fresh() { return dir.file("r" + std::to_string(made++) + ".db"); }
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
#else
  bool skip() const {
    MESSAGE("[SKIP] PostgreSQL storage: not built (no libpq)");
    return true;
  }
  std::string fresh() { return ""; }
#endif
};

SearchConfig small_config() {
  controller::register_lstm_strategy();
  SearchConfig c;
  c.strategy = "lstm";
  c.strategy_options = {{"batch", "8"}, {"hidden", "16"}, {"embedding", "16"}};
  c.budget = 48;
  c.seed = 7;
  c.child.synthetic = 0;
  return c;
}

// Worker threads evaluating the synthetic child until `done` is set.
class Workers {
 public:
  Workers(const std::string& where, SearchId search, const SearchConfig& config, int count) {
    for (int i = 0; i < count; ++i)
      threads_.emplace_back([=, this] {
        auto storage = open_storage(where, OpenMode::Open);
        WorkerOptions options;
        options.owner = "thread-" + std::to_string(i);
        options.poll_seconds = 0.01;
        options.stop = &done_;
        run_worker(*storage, [=] { return open_storage(where, OpenMode::Open); }, search,
                   [&](const ClaimedTask& t) { return synthetic_evaluation(config, t.candidate, t.lease.stage, 0); },
                   options);
      });
  }
  ~Workers() {
    done_ = true;
    for (std::thread& t : threads_) t.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::vector<std::thread> threads_;
};

SearchId create(const std::string& where, const SearchConfig& config) {
  auto storage = open_storage(where, OpenMode::Create);
  return storage->create_search("s", "{}", config.lease);
}

// What a search produced, to compare: every candidate's tokens and accepted stage-1 reward.
std::vector<std::string> outcome(Storage& storage, SearchId search) {
  std::vector<std::string> out;
  for (const Candidate& c : storage.candidates(search)) {
    std::string line = std::to_string(c.batch) + " " + c.tokens;
    int accepted = 0;
    for (const Evaluation& e : storage.evaluations(search, c.index))
      if (e.accepted && e.stage == 1) line += " " + std::to_string(e.reward.value_or(-1)) + " " + name(e.source), ++accepted;
    CHECK_MESSAGE(accepted == 1, "candidate " << c.index << " has " << accepted << " accepted results");
    out.push_back(line);
  }
  return out;
}

// `replicas` replica threads on a fresh search; returns the storage to read it.
std::unique_ptr<Storage> run_replicas(const std::string& where, const SearchConfig& config, int replicas,
                                      bool synchronous, SearchId& search) {
  search = create(where, config);
  {
    Workers workers(where, search, config, 2);
    std::vector<std::thread> threads;
    for (int k = 0; k < replicas; ++k)
      threads.emplace_back([&, k] {
        auto storage = open_storage(where, OpenMode::Open);
        SearchConfig own = config;
        own.seed = replica_seed(config.seed, k);
        std::unique_ptr<controller::Strategy> strategy = make_strategy(own);
        ReplicaOptions options;
        options.name = "replica-" + std::to_string(k);
        options.index = k;
        options.replicas = replicas;
        options.synchronous = synchronous;
        ReplicaLoop loop(*storage, search, config, *strategy, options);
        CHECK(loop.run() == LoopEnd::Budget);
      });
    for (std::thread& t : threads) t.join();
  }
  return open_storage(where, OpenMode::ReadOnly);
}

}  // namespace
}  // namespace nos::search

TYPE_TO_STRING_AS("SQLite", nos::search::SqliteDb);
TYPE_TO_STRING_AS("PostgreSQL", nos::search::PostgresDb);

namespace nos::search {

TEST_CASE_TEMPLATE("replicas: one replica is the single-controller search", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  SearchConfig config = small_config();
  std::string single_db = db.fresh();
  SearchId single = create(single_db, config);
  std::unique_ptr<controller::Strategy> strategy = make_strategy(config);
  {
    Workers workers(single_db, single, config, 2);
    auto storage = open_storage(single_db, OpenMode::Open);
    SearchLoop loop(*storage, single, config, *strategy);
    REQUIRE(loop.run() == LoopEnd::Budget);
  }
  SearchId replicated = 0;
  auto replica = run_replicas(db.fresh(), config, 1, false, replicated);
  auto reference = open_storage(single_db, OpenMode::ReadOnly);
  std::vector<std::string> expected = outcome(*reference, single);
  CHECK(expected.size() == 48);
  CHECK(outcome(*replica, replicated) == expected);
  // The controller ends in the same state, bit for bit, after one update per batch.
  std::optional<ParameterVersion> latest = replica->latest_parameters(replicated);
  REQUIRE(latest);
  CHECK(latest->version == 6);
  CHECK(latest->bytes == strategy->save());
  for (const ReplicaBatch& b : replica->replica_batches(replicated)) {
    CHECK(b.state == "applied");
    CHECK(b.version == b.batch + 1);
  }
}

TEST_CASE_TEMPLATE("replicas: three asynchronous replicas finish, version = applied updates, one result per candidate", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  SearchConfig config = small_config();
  config.budget = 72;
  SearchId search = 0;
  auto storage = run_replicas(db.fresh(), config, 3, false, search);
  CHECK(outcome(*storage, search).size() == 72);
  std::vector<ReplicaBatch> batches = storage->replica_batches(search);
  REQUIRE(batches.size() == 9);
  std::int64_t applied = 0;
  for (const ReplicaBatch& b : batches) applied += b.state == "applied";
  CHECK(applied == 9);  // no staleness limit: every update applied
  CHECK(storage->latest_parameters(search)->version == applied);
  std::vector<ParameterVersion> history = storage->parameter_history(search);
  REQUIRE(history.size() == 10);
  for (std::size_t v = 1; v < history.size(); ++v) CHECK(history[v].replica.starts_with("replica-"));
  CHECK(storage->counts(search).pending() == 0);
}

TEST_CASE_TEMPLATE("replicas: the synchronous mode reproduces itself", Db, SqliteDb, PostgresDb) {
  Db db;
  if (db.skip()) return;
  SearchConfig config = small_config();
  SearchId first = 0, second = 0;
  auto a = run_replicas(db.fresh(), config, 3, true, first);
  auto b = run_replicas(db.fresh(), config, 3, true, second);
  std::vector<std::string> oa = outcome(*a, first), ob = outcome(*b, second);
  CHECK(oa == ob);
  for (std::size_t i = 0; i < std::min(oa.size(), ob.size()); ++i)
    if (oa[i] != ob[i]) MESSAGE(i << ": " << oa[i] << " | " << ob[i]);
  std::vector<ParameterVersion> ha = a->parameter_history(first), hb = b->parameter_history(second);
  REQUIRE(ha.size() == 7);
  REQUIRE(hb.size() == ha.size());
  for (std::size_t v = 1; v < ha.size(); ++v) {
    CHECK(ha[v].replica == hb[v].replica);
    CHECK(ha[v].batch == static_cast<std::int64_t>(v - 1));  // applied in replica order, round by round
    CHECK(ha[v].replica == "replica-" + std::to_string((v - 1) % 3));
  }
  CHECK(a->latest_parameters(first)->bytes == b->latest_parameters(second)->bytes);
  for (const ReplicaBatch& r : a->replica_batches(first)) CHECK(r.sampled_version == r.batch / 3 * 3);
}

}  // namespace nos::search
