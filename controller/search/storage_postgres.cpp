#include "controller/search/storage_postgres.h"

#include <fmt/format.h>

#include "controller/search/pg_db.h"
#include "controller/search/storage_queries.h"
#include "controller/search/storage_schema.h"

namespace nos::search {
namespace {

using pg::Params;
using queries::kCandidateColumns;
using queries::kEvaluationColumns;
using queries::kSearchColumns;

// The server's clock in unix seconds. statement_timestamp() is when the statement arrived, like
// SQLite's 'now' (fixed within one statement, later in each statement of a transaction); now()
// would be the transaction's start.
constexpr const char* kNow = "extract(epoch from statement_timestamp())::double precision";
// Held while a connection inspects, creates or migrates the schema, so that two processes opening
// an empty database at once do not both create it ('NOSS', as SQLite's application_id).
constexpr std::int64_t kSchemaLock = 0x4E4F5353;
// pg_try_advisory_lock(kRunLock, search id): one `nos-search run` per search ('NOSR'). The two-key
// form lives apart from kSchemaLock's one-key form.
constexpr int kRunLock = 0x4E4F5352;

void check_result(const std::string& where, const EvaluationResult& r) {
  if (!is_status(r.status))
    throw StorageError(fmt::format("{}: unknown evaluation status '{}'", where, r.status));
  if (!is_source(r.source))
    throw StorageError(fmt::format("{}: unknown evaluation source '{}'", where, r.source));
}

Evaluation read_evaluation(const pg::Result& r, int row) {
  Evaluation e;
  e.id = r.integer(row, 0);
  e.candidate = r.integer(row, 1);
  e.stage = static_cast<int>(r.integer(row, 2));
  e.task = r.optional_integer(row, 3).value_or(0);
  e.attempt = r.integer(row, 4);
  e.accepted = r.integer(row, 5) != 0;
  e.status = r.text(row, 6);
  e.source = r.text(row, 7);
  e.reused_from = r.optional_integer(row, 8);
  e.detail = r.text(row, 9);
  e.lr = r.optional_real(row, 10);
  e.metric = r.optional_real(row, 11);
  e.reward = r.optional_real(row, 12);
  e.metrics_json = r.text(row, 13);
  e.curves_json = r.text(row, 14);
  e.timings_json = r.text(row, 15);
  e.worker = r.text(row, 16);
  e.started_at = r.real(row, 17);
  e.finished_at = r.real(row, 18);
  return e;
}

// `first` = the column index of idx, for a statement that reads a candidate after other columns.
Candidate read_candidate(const pg::Result& r, int row, int first = 0) {
  int i = first;
  return {r.integer(row, i), r.integer(row, i + 1), r.text(row, i + 2), r.text(row, i + 3), r.text(row, i + 4),
          r.text(row, i + 5), r.bytes(row, i + 6), r.real(row, i + 7)};
}

SearchInfo read_search(const pg::Result& r, int row) {
  return {r.integer(row, 0), r.text(row, 1), r.text(row, 2),
          {r.real(row, 3), static_cast<int>(r.integer(row, 4)), r.real(row, 5)}, r.real(row, 6)};
}

Lease read_lease(SearchId search, const pg::Result& r, int row) {
  return {search, r.integer(row, 0), r.integer(row, 1), static_cast<int>(r.integer(row, 2)), r.integer(row, 3),
          r.text(row, 4), r.real(row, 5), r.real(row, 6)};
}
constexpr const char* kLeaseColumns = "id, candidate, stage, attempt, owner, claimed_at, lease_expires";

}  // namespace

PostgresStorage::PostgresStorage(const std::string& url, OpenMode mode)
    : location_(pg::mask_password(url)),
      read_only_(mode == OpenMode::ReadOnly),
      reconnect_policy_(pg::ReconnectPolicy::from_environment()) {
  // The first connection is not retried: a wrong URL or a server that is not there is an error now.
  db_ = std::make_unique<pg::Connection>(url);
  start_session();
  prepare_schema(mode);
}

PostgresStorage::~PostgresStorage() = default;

void PostgresStorage::start_session() {
  db_->exec("SET client_min_messages = warning");
  // Read only: the server refuses every write of this session, whatever the class lets through.
  if (read_only_) db_->exec("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
  for (SearchId search : listening_) db_->exec(fmt::format("LISTEN nos_search_{}", search));
  if (locked_search_) {
    pg::Result r = db_->exec("SELECT pg_try_advisory_lock($1, $2)", Params().add(kRunLock).add(*locked_search_));
    if (r.text(0, 0) != "t")
      throw StorageError(fmt::format("{}: another nos-search run took search '{}' while this one was disconnected; "
                                     "this run stops (the other one goes on)",
                                     location_, locked_name_));
  }
}

template <class Body>
auto PostgresStorage::retrying(Body&& body) -> decltype(body()) {
  if (depth_ > 0) return body();  // inside another operation: the outermost one retries all of it
  struct Depth {
    int& depth;
    explicit Depth(int& d) : depth(d) { ++depth; }
    ~Depth() { --depth; }
  } outermost(depth_);
  retry_ = false;
  while (true) {
    try {
      return body();
    } catch (const pg::Error& e) {
      if (!e.connection_lost()) throw;
      // The transaction died with the session: reconnect, then run the whole operation again. Its
      // commit may have happened before the acknowledgement was lost: the operations that are not
      // idempotent by themselves look at retry_ to recognize their own work (finish, store_result,
      // enqueue_batch, enqueue_stage, create_search, claim).
      pg::reconnect(*db_, location_, e.reason().empty() ? e.what() : e.reason(), reconnect_policy_,
                    [this] { start_session(); });
      retry_ = true;
    }
  }
}

void PostgresStorage::lose_next_commit_acknowledgement_for_testing() { db_->lose_next_commit_acknowledgement(); }

void PostgresStorage::lock_search(SearchId search) {
  retrying([&] {
    std::string name = fmt::format("{}", search);
    pg::Result found = db_->exec("SELECT name FROM searches WHERE id = $1", Params().add(search));
    if (!found.empty()) name = found.text(0, 0);
    // A session-level lock: held while this connection lives, gone with it when the process dies.
    pg::Result r = db_->exec("SELECT pg_try_advisory_lock($1, $2)", Params().add(kRunLock).add(search));
    if (r.text(0, 0) != "t")
      throw StorageError(fmt::format("{}: another nos-search run is working on search '{}' (wait for it, or stop it)",
                                     location_, name));
    locked_search_ = search;
    locked_name_ = name;
  });
}

void PostgresStorage::prepare_schema(OpenMode mode) {
  pg::Transaction tx(*db_, pg::Transaction::Write);
  db_->exec("SELECT pg_advisory_xact_lock($1)", Params().add(kSchemaLock));
  pg::Result found = db_->exec(
      "SELECT to_regclass('nos_schema') IS NOT NULL, "
      "(SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema())");
  const bool has_schema = found.text(0, 0) == "t";
  const std::int64_t tables = found.integer(0, 1);
  if (!has_schema) {
    if (tables != 0)
      throw StorageError(fmt::format(
          "{}: not a NOS search database (a PostgreSQL database with tables but without nos_schema)", location_));
    if (mode == OpenMode::Open || mode == OpenMode::ReadOnly)
      throw StorageError(fmt::format("{}: not a NOS search database (the database is empty)", location_));
    // An empty database is a fine place to start, like an empty SQLite file.
    for (const std::string& statement : schema::create_statements(schema::Dialect::PostgreSQL)) db_->exec(statement);
    db_->exec(fmt::format("INSERT INTO nos_schema (application, version, created_at) VALUES ($1, $2, {})", kNow),
              Params().add(schema::kApplication).add(schema::kVersion));
    tx.commit();
    return;
  }
  pg::Result row = db_->exec("SELECT application, version FROM nos_schema");
  if (row.empty() || row.text(0, 0) != schema::kApplication)
    throw StorageError(
        fmt::format("{}: not a NOS search database (nos_schema does not name {})", location_, schema::kApplication));
  const int version = static_cast<int>(row.integer(0, 1));
  if (version > schema::kVersion)
    throw StorageError(fmt::format("{}: schema version {} is newer than this NOS reads ({}): use a newer nos-search",
                                   location_, version, schema::kVersion));
  if (version < schema::kVersion) {
    if (read_only_)
      throw StorageError(fmt::format("{}: schema version {} is older than {}; open it for writing once to migrate it",
                                     location_, version, schema::kVersion));
    // Step by step in this one transaction (PostgreSQL's DDL is transactional), or refuse.
    for (int from = version; from < schema::kVersion; ++from) {
      const schema::Migration* step = nullptr;
      for (const schema::Migration& m : schema::migrations())
        if (m.from == from) step = &m;
      if (!step)
        throw StorageError(fmt::format("{}: schema version {} cannot be migrated to {} (no migration from {})",
                                       location_, version, schema::kVersion, from));
      for (const std::string& statement : step->statements(schema::Dialect::PostgreSQL)) db_->exec(statement);
    }
    db_->exec("UPDATE nos_schema SET version = $1", Params().add(schema::kVersion));
  }
  tx.commit();
}

void PostgresStorage::check_writable() const {
  if (read_only_) throw StorageError(fmt::format("{}: opened read-only", location_));
}

const LeasePolicy& PostgresStorage::policy(SearchId search) {
  auto it = policies_.find(search);
  if (it != policies_.end()) return it->second;
  pg::Result r = db_->exec("SELECT lease_seconds, max_attempts, crash_reward FROM searches WHERE id = $1",
                           Params().add(search));
  if (r.empty()) throw StorageError(fmt::format("{}: no search with id {}", location_, search));
  return policies_[search] = {r.real(0, 0), static_cast<int>(r.integer(0, 1)), r.real(0, 2)};
}

bool PostgresStorage::wait_for_work(SearchId search, double seconds) {
  return retrying([&]() -> bool {
    // Notifications sent while the connection was away are lost: after a reconnect, look for work.
    if (retry_) return true;
    if (listening_.insert(search).second) db_->exec(fmt::format("LISTEN nos_search_{}", search));
    return db_->wait_for_notification(seconds);
  });
}

void PostgresStorage::notify(SearchId search) {
  // Delivered at commit, to every session that LISTENs on the search's channel.
  db_->exec(fmt::format("NOTIFY nos_search_{}", search));
}

// ---- Searches -----------------------------------------------------------------------------------

SearchId PostgresStorage::create_search(const std::string& name, const std::string& config_json, const LeasePolicy& p) {
  return retrying([&]() -> SearchId {
    check_writable();
    if (p.lease_seconds <= 0 || p.max_attempts < 1)
      throw StorageError(fmt::format("{}: a lease needs lease_seconds > 0 and max_attempts >= 1", location_));
    const std::string exists = fmt::format("{}: a search named '{}' exists already", location_, name);
    if (std::optional<SearchInfo> found = find_search(name)) {
      // Created by the attempt whose acknowledgement was lost: the same configuration.
      if (retry_ && found->config_json == config_json && found->policy.lease_seconds == p.lease_seconds &&
          found->policy.max_attempts == p.max_attempts)
        return found->id;
      throw StorageError(exists);
    }
    try {
      pg::Result r = db_->exec(fmt::format("INSERT INTO searches (name, config, lease_seconds, max_attempts, "
                                           "crash_reward, created_at) VALUES ($1, $2, $3, $4, $5, {}) RETURNING id",
                                           kNow),
                               Params().add(name).add(config_json).add(p.lease_seconds).add(p.max_attempts).add(p.crash_reward));
      return r.integer(0, 0);
    } catch (const pg::Error& e) {
      if (e.sqlstate() == pg::kUniqueViolation) throw StorageError(exists);  // created meanwhile elsewhere
      throw;
    }
  });
}

std::optional<SearchInfo> PostgresStorage::find_search(const std::string& name) {
  return retrying([&]() -> std::optional<SearchInfo> {
    pg::Result r = db_->exec(fmt::format("SELECT {} FROM searches WHERE name = $1", kSearchColumns), Params().add(name));
    if (r.empty()) return std::nullopt;
    return read_search(r, 0);
  });
}

void PostgresStorage::update_config(SearchId search, const std::string& config_json) {
  retrying([&] {  // the same value again after a lost acknowledgement: harmless
    check_writable();
    pg::Result r = db_->exec("UPDATE searches SET config = $1 WHERE id = $2", Params().add(config_json).add(search));
    if (r.affected() != 1) throw StorageError(fmt::format("{}: no search with id {}", location_, search));
  });
}

std::vector<SearchInfo> PostgresStorage::searches() {
  return retrying([&]() -> std::vector<SearchInfo> {
    pg::Result r = db_->exec(fmt::format("SELECT {} FROM searches ORDER BY id", kSearchColumns));
    std::vector<SearchInfo> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_search(r, i));
    return out;
  });
}

// ---- Candidates and the queue -------------------------------------------------------------------

std::int64_t PostgresStorage::enqueue_batch(SearchId search, std::int64_t batch,
                                            const std::vector<NewCandidate>& batch_candidates) {
  return retrying([&]() -> std::int64_t {
    check_writable();
    policy(search);  // the search must exist
    for (const NewCandidate& c : batch_candidates) {
      if (c.resolved) check_result(location_, *c.resolved);
      if (c.resolved && c.deferred)
        throw StorageError(fmt::format("{}: a candidate cannot be both resolved and deferred", location_));
    }
    pg::Transaction tx(*db_, pg::Transaction::Write);
    // The search's row lock orders enqueuers, so that indices continue the sequence without gaps.
    db_->exec("SELECT id FROM searches WHERE id = $1 FOR NO KEY UPDATE", Params().add(search));
    if (retry_) {
      // The attempt whose acknowledgement was lost may have stored the batch: then it is there with
      // these very rules, in order, and storing it again would duplicate it.
      pg::Result stored = db_->exec("SELECT idx, tokens FROM candidates WHERE search_id = $1 AND batch = $2 ORDER BY idx",
                                    Params().add(search).add(batch));
      bool same = stored.rows() == static_cast<int>(batch_candidates.size()) && stored.rows() > 0;
      for (int i = 0; same && i < stored.rows(); ++i) same = stored.text(i, 1) == batch_candidates[i].tokens;
      if (same) {
        tx.commit();
        return stored.integer(0, 0);
      }
    }
    pg::Result next = db_->exec("SELECT COALESCE(MAX(idx) + 1, 0) FROM candidates WHERE search_id = $1",
                                Params().add(search));
    const std::int64_t first = next.integer(0, 0);
    const std::string insert = fmt::format(
        "INSERT INTO candidates (search_id, idx, batch, tokens, rule, hash, fingerprint, strategy_data, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {})",
        kNow);
    const std::string queue = fmt::format(
        "INSERT INTO tasks (search_id, candidate, stage, state, enqueued_at) VALUES ($1, $2, 1, 'queued', {})", kNow);
    std::int64_t index = first;
    bool queued = false;
    for (const NewCandidate& c : batch_candidates) {
      db_->exec(insert, Params()
                            .add(search)
                            .add(index)
                            .add(batch)
                            .add(c.tokens)
                            .add(c.rule)
                            .add(c.hash)
                            .add(c.fingerprint)
                            .add_bytes(c.strategy_data));
      if (c.resolved) {
        insert_evaluation(search, index, 0, 0, true, *c.resolved, "", std::nullopt);
      } else if (!c.deferred) {
        db_->exec(queue, Params().add(search).add(index));
        queued = true;
      }
      ++index;
    }
    if (queued) notify(search);
    tx.commit();
    return first;
  });
}

bool PostgresStorage::has_task(SearchId search, std::int64_t candidate, int stage) {
  return retrying([&]() -> bool {
    pg::Result r = db_->exec("SELECT count(*) FROM tasks WHERE search_id = $1 AND candidate = $2 AND stage = $3",
                             Params().add(search).add(candidate).add(stage));
    return r.integer(0, 0) != 0;
  });
}

std::int64_t PostgresStorage::enqueue_stage(SearchId search, std::int64_t candidate, int stage) {
  return retrying([&]() -> std::int64_t {
    check_writable();
    pg::Transaction tx(*db_, pg::Transaction::Write);
    pg::Result exists = db_->exec("SELECT count(*) FROM candidates WHERE search_id = $1 AND idx = $2",
                                  Params().add(search).add(candidate));
    if (exists.integer(0, 0) == 0)
      throw StorageError(fmt::format("{}: search {} has no candidate {}", location_, search, candidate));
    const std::string duplicate = fmt::format("{}: candidate {} already has a stage-{} task", location_, candidate, stage);
    if (has_task(search, candidate, stage)) {
      if (retry_) {  // queued by the attempt whose acknowledgement was lost
        pg::Result r = db_->exec("SELECT id FROM tasks WHERE search_id = $1 AND candidate = $2 AND stage = $3",
                                 Params().add(search).add(candidate).add(stage));
        return r.integer(0, 0);
      }
      throw StorageError(duplicate);
    }
    std::int64_t task = 0;
    try {
      pg::Result r = db_->exec(fmt::format("INSERT INTO tasks (search_id, candidate, stage, state, enqueued_at) "
                                           "VALUES ($1, $2, $3, 'queued', {}) RETURNING id",
                                           kNow),
                               Params().add(search).add(candidate).add(stage));
      task = r.integer(0, 0);
    } catch (const pg::Error& e) {
      if (e.sqlstate() == pg::kUniqueViolation) throw StorageError(duplicate);
      throw;
    }
    notify(search);
    tx.commit();
    return task;
  });
}

std::optional<ClaimedTask> PostgresStorage::claim(SearchId search, const std::string& owner) {
  return retrying([&]() -> std::optional<ClaimedTask> {
    check_writable();
    const LeasePolicy& p = policy(search);
    // One short transaction: the rows it locks are skipped by every other claimer (SKIP LOCKED), so
    // claimers never wait on each other and never get the same task.
    pg::Transaction tx(*db_, pg::Transaction::Write);
    if (retry_) {
      // A claim whose acknowledgement was lost left a task running under this owner that nobody
      // works on: handed back (no attempt charged) rather than left to expire.
      pg::Result orphans = db_->exec("SELECT id FROM tasks WHERE search_id = $1 AND owner = $2 AND state = 'running' "
                                     "ORDER BY id FOR UPDATE SKIP LOCKED",
                                     Params().add(search).add(owner));
      for (int i = 0; i < orphans.rows(); ++i)
        if (!held_.count(orphans.integer(i, 0)))
          db_->exec("UPDATE tasks SET state = 'queued', owner = NULL, lease_expires = NULL WHERE id = $1",
                    Params().add(orphans.integer(i, 0)));
    }
    requeue_expired_locked(search);
    pg::Result first = db_->exec("SELECT id, candidate, stage FROM tasks WHERE search_id = $1 AND state = 'queued' "
                                 "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                                 Params().add(search));
    if (first.empty()) {
      tx.commit();  // keeps what requeue_expired_locked did
      return std::nullopt;
    }
    ClaimedTask claimed;
    Lease& lease = claimed.lease;
    lease.search = search;
    lease.task = first.integer(0, 0);
    lease.candidate = first.integer(0, 1);
    lease.stage = static_cast<int>(first.integer(0, 2));
    lease.owner = owner;
    pg::Result updated = db_->exec(fmt::format("UPDATE tasks SET state = 'running', owner = $1, attempt = attempt + 1, "
                                               "lease_expires = {0} + $2, heartbeat_at = {0}, claimed_at = {0} "
                                               "WHERE id = $3 RETURNING attempt, lease_expires, claimed_at",
                                               kNow),
                                   Params().add(owner).add(p.lease_seconds).add(lease.task));
    lease.attempt = updated.integer(0, 0);
    lease.expires_at = updated.real(0, 1);
    lease.claimed_at = updated.real(0, 2);
    pg::Result c = db_->exec(fmt::format("SELECT {} FROM candidates WHERE search_id = $1 AND idx = $2", kCandidateColumns),
                             Params().add(search).add(lease.candidate));
    claimed.candidate = read_candidate(c, 0);
    tx.commit();
    held_.insert(lease.task);
    return claimed;
  });
}

bool PostgresStorage::heartbeat(Lease& lease) {
  return retrying([&]() -> bool {
    check_writable();
    const LeasePolicy& p = policy(lease.search);
    pg::Result r = db_->exec(fmt::format("UPDATE tasks SET lease_expires = {0} + $1, heartbeat_at = {0} "
                                         "WHERE id = $2 AND owner = $3 AND attempt = $4 AND state = 'running' "
                                         "RETURNING lease_expires",
                                         kNow),
                             Params().add(p.lease_seconds).add(lease.task).add(lease.owner).add(lease.attempt));
    if (r.rows() != 1) return false;
    lease.expires_at = r.real(0, 0);
    return true;
  });
}

bool PostgresStorage::finish(const Lease& lease, const EvaluationResult& result) {
  return retrying([&]() -> bool {
    check_writable();
    check_result(location_, result);
    if (result.stage != lease.stage)
      throw StorageError(fmt::format("{}: a stage-{} result for a stage-{} lease", location_, result.stage, lease.stage));
    pg::Transaction tx(*db_, pg::Transaction::Write);
    // The fence: only the lease's current owner and attempt may end a running task. A lease that has
    // expired but was not yet taken over still counts: no newer attempt exists to protect. The
    // UPDATE waits for a claimer that holds the row and then re-checks the condition.
    pg::Result r = db_->exec(fmt::format("UPDATE tasks SET state = 'finished', finished_at = {}, lease_expires = NULL "
                                         "WHERE id = $1 AND owner = $2 AND attempt = $3 AND state = 'running'",
                                         kNow),
                             Params().add(lease.task).add(lease.owner).add(lease.attempt));
    const bool accepted = r.affected() == 1;
    held_.erase(lease.task);
    if (!accepted && retry_) {
      // The attempt whose acknowledgement was lost stored this very result (accepted, or refused
      // for a stale lease): its answer stands, and the result is not stored twice.
      pg::Result mine = db_->exec("SELECT accepted FROM evaluations WHERE search_id = $1 AND task = $2 AND attempt = $3 "
                                  "AND worker = $4 AND stage = $5 AND status = $6 AND source = $7 AND detail = $8 "
                                  "ORDER BY id LIMIT 1",
                                  Params()
                                      .add(lease.search)
                                      .add(lease.task)
                                      .add(lease.attempt)
                                      .add(lease.owner)
                                      .add(result.stage)
                                      .add(result.status)
                                      .add(result.source)
                                      .add(result.detail));
      if (!mine.empty()) {
        tx.commit();
        return mine.integer(0, 0) != 0;
      }
    }
    insert_evaluation(lease.search, lease.candidate, lease.task, lease.attempt, accepted, result, lease.owner,
                      lease.claimed_at);
    tx.commit();
    return accepted;
  });
}

void PostgresStorage::store_result(SearchId search, std::int64_t candidate, const EvaluationResult& result) {
  return retrying([&]() -> void {
    check_writable();
    check_result(location_, result);
    pg::Transaction tx(*db_, pg::Transaction::Write);
    pg::Result exists = db_->exec("SELECT count(*) FROM candidates WHERE search_id = $1 AND idx = $2",
                                  Params().add(search).add(candidate));
    if (exists.integer(0, 0) == 0)
      throw StorageError(fmt::format("{}: search {} has no candidate {}", location_, search, candidate));
    if (has_task(search, candidate, result.stage))
      throw StorageError(fmt::format("{}: candidate {} has a stage-{} task: its result comes from it", location_,
                                     candidate, result.stage));
    const std::string done =
        fmt::format("{}: candidate {} has a stage-{} result already", location_, candidate, result.stage);
    pg::Result accepted = db_->exec("SELECT status, source, reused_from, detail FROM evaluations WHERE search_id = $1 "
                                    "AND candidate = $2 AND stage = $3 AND accepted = 1",
                                    Params().add(search).add(candidate).add(result.stage));
    if (!accepted.empty()) {
      // Stored by the attempt whose acknowledgement was lost: the same result, so done.
      if (retry_ && accepted.text(0, 0) == result.status && accepted.text(0, 1) == result.source &&
          accepted.optional_integer(0, 2) == result.reused_from && accepted.text(0, 3) == result.detail) {
        tx.commit();
        return;
      }
      throw StorageError(done);
    }
    try {
      insert_evaluation(search, candidate, 0, 0, true, result, "", std::nullopt);
    } catch (const pg::Error& e) {
      if (e.sqlstate() == pg::kUniqueViolation) throw StorageError(done);  // stored meanwhile elsewhere
      throw;
    }
    tx.commit();
  });
}

void PostgresStorage::release(const Lease& lease) {
  return retrying([&]() -> void {
    check_writable();
    held_.erase(lease.task);
    pg::Transaction tx(*db_, pg::Transaction::Write);
    pg::Result r = db_->exec("UPDATE tasks SET state = 'queued', owner = NULL, lease_expires = NULL "
                             "WHERE id = $1 AND owner = $2 AND attempt = $3 AND state = 'running'",
                             Params().add(lease.task).add(lease.owner).add(lease.attempt));
    if (r.affected() == 1) notify(lease.search);
    tx.commit();
  });
}

void PostgresStorage::abandon(const Lease& lease, const std::string& why) {
  return retrying([&]() -> void {
    check_writable();
    held_.erase(lease.task);
    policy(lease.search);
    pg::Transaction tx(*db_, pg::Transaction::Write);
    pg::Result current = db_->exec("SELECT id FROM tasks WHERE id = $1 AND owner = $2 AND attempt = $3 "
                                   "AND state = 'running' FOR UPDATE",
                                   Params().add(lease.task).add(lease.owner).add(lease.attempt));
    if (current.rows() == 1)
      fail_attempt_locked(lease.search, lease.task, lease.candidate, lease.stage, lease.attempt, lease.owner,
                          lease.claimed_at, why);
    tx.commit();
  });
}

int PostgresStorage::abandon_owner(SearchId search, const std::string& owner, const std::string& why) {
  return retrying([&]() -> int {
    check_writable();
    policy(search);
    pg::Transaction tx(*db_, pg::Transaction::Write);
    pg::Result held = db_->exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' "
                                            "AND owner = $2 ORDER BY claimed_at, id FOR UPDATE",
                                            kLeaseColumns),
                                Params().add(search).add(owner));
    for (int i = 0; i < held.rows(); ++i) {
      Lease l = read_lease(search, held, i);
      fail_attempt_locked(search, l.task, l.candidate, l.stage, l.attempt, l.owner, l.claimed_at, why);
    }
    tx.commit();
    return held.rows();
  });
}

std::vector<Lease> PostgresStorage::running(SearchId search) {
  return retrying([&]() -> std::vector<Lease> {
    pg::Result r = db_->exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' "
                                         "ORDER BY claimed_at, id",
                                         kLeaseColumns),
                             Params().add(search));
    std::vector<Lease> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_lease(search, r, i));
    return out;
  });
}

int PostgresStorage::requeue_expired(SearchId search) {
  return retrying([&]() -> int {
    check_writable();
    policy(search);
    pg::Transaction tx(*db_, pg::Transaction::Write);
    int n = requeue_expired_locked(search);
    tx.commit();
    return n;
  });
}

int PostgresStorage::requeue_expired_locked(SearchId search) {
  // Rows another process holds (finishing or re-queuing them now) are skipped: it decides them.
  pg::Result expired = db_->exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' "
                                             "AND lease_expires < {} ORDER BY id FOR UPDATE SKIP LOCKED",
                                             kLeaseColumns, kNow),
                                 Params().add(search));
  for (int i = 0; i < expired.rows(); ++i) {
    Lease e = read_lease(search, expired, i);
    fail_attempt_locked(search, e.task, e.candidate, e.stage, e.attempt, e.owner, e.claimed_at,
                        fmt::format("the lease of {} (attempt {}) expired", e.owner, e.attempt));
  }
  return expired.rows();
}

void PostgresStorage::fail_attempt_locked(SearchId search, std::int64_t task, std::int64_t candidate, int stage,
                                          std::int64_t attempt, const std::string& owner, double claimed_at,
                                          const std::string& why) {
  const LeasePolicy& p = policy(search);
  pg::Result failures = db_->exec("SELECT failures FROM tasks WHERE id = $1", Params().add(task));
  const bool last = failures.integer(0, 0) + 1 >= p.max_attempts;
  EvaluationResult crashed;
  crashed.stage = stage;
  crashed.status = "crashed";
  crashed.detail = why;
  if (last) {
    crashed.reward = p.crash_reward;
    db_->exec(fmt::format("UPDATE tasks SET state = 'crashed', failures = failures + 1, lease_expires = NULL, "
                          "finished_at = {} WHERE id = $1",
                          kNow),
              Params().add(task));
  } else {
    db_->exec("UPDATE tasks SET state = 'queued', failures = failures + 1, owner = NULL, lease_expires = NULL "
              "WHERE id = $1",
              Params().add(task));
    notify(search);
  }
  // The lost attempt is kept; the last one is the candidate's accepted (crashed) result.
  insert_evaluation(search, candidate, task, attempt, last, crashed, owner, claimed_at);
}

void PostgresStorage::insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task,
                                        std::int64_t attempt, bool accepted, const EvaluationResult& r,
                                        const std::string& worker, std::optional<double> started_at) {
  Params params;
  params.add(search).add(candidate).add(r.stage);
  if (task) params.add(task);
  else params.add_null();
  params.add(attempt).add(accepted ? 1 : 0).add(r.status).add(r.source).add(r.reused_from);
  params.add(r.detail).add(r.lr).add(r.metric).add(r.reward);
  params.add(r.metrics_json).add(r.curves_json).add(r.timings_json).add(worker).add(started_at);
  db_->exec(fmt::format("INSERT INTO evaluations (search_id, candidate, stage, task, attempt, accepted, status, "
                        "source, reused_from, detail, lr, metric, reward, metrics, curves, timings, worker, "
                        "started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                        "$14, $15, $16, $17, COALESCE($18::double precision, {0}), {0})",
                        kNow),
            params);
}

// ---- Strategy state ---------------------------------------------------------------------------

void PostgresStorage::save_strategy_state(SearchId search, std::int64_t batch, const std::string& bytes,
                                          const std::string& statistics_json) {
  return retrying([&]() -> void {
    check_writable();
    db_->exec(fmt::format("INSERT INTO strategy_states (search_id, batch, state, statistics, saved_at) "
                          "VALUES ($1, $2, $3, $4, {}) ON CONFLICT (search_id, batch) DO UPDATE SET "
                          "state = excluded.state, statistics = excluded.statistics, saved_at = excluded.saved_at",
                          kNow),
              Params().add(search).add(batch).add_bytes(bytes).add(statistics_json));
  });
}

std::optional<StrategyState> PostgresStorage::latest_strategy_state(SearchId search) {
  return retrying([&]() -> std::optional<StrategyState> {
    pg::Result r = db_->exec("SELECT batch, state FROM strategy_states WHERE search_id = $1 ORDER BY batch DESC LIMIT 1",
                             Params().add(search));
    if (r.empty()) return std::nullopt;
    return StrategyState{r.integer(0, 0), r.bytes(0, 1)};
  });
}

void PostgresStorage::drop_strategy_states_before(SearchId search, std::int64_t batch) {
  return retrying([&]() -> void {  // idempotent: a retry after a lost acknowledgement changes nothing
    check_writable();
    db_->exec("UPDATE strategy_states SET state = ''::bytea WHERE search_id = $1 AND batch < $2 "
              "AND octet_length(state) > 0",
              Params().add(search).add(batch));
  });
}

std::vector<BatchRecord> PostgresStorage::batch_records(SearchId search) {
  return retrying([&]() -> std::vector<BatchRecord> {
    pg::Result r = db_->exec("SELECT batch, statistics, saved_at, octet_length(state) FROM strategy_states "
                             "WHERE search_id = $1 ORDER BY batch",
                             Params().add(search));
    std::vector<BatchRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.integer(i, 0), r.text(i, 1), r.real(i, 2), r.integer(i, 3)});
    return out;
  });
}

// ---- Artifacts --------------------------------------------------------------------------------

void PostgresStorage::put_artifact(SearchId search, const std::string& key, const std::string& json) {
  return retrying([&]() -> void {
    check_writable();
    policy(search);  // the search must exist
    db_->exec(fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES ($1, $2, $3, {}) "
                          "ON CONFLICT (search_id, key) DO UPDATE SET value = excluded.value, saved_at = excluded.saved_at",
                          kNow),
              Params().add(search).add(key).add(json));
  });
}

bool PostgresStorage::add_artifact(SearchId search, const std::string& key, const std::string& json) {
  return retrying([&]() -> bool {
    check_writable();
    policy(search);  // the search must exist
    pg::Result r = db_->exec(fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES ($1, $2, $3, {}) "
                                         "ON CONFLICT (search_id, key) DO NOTHING",
                                         kNow),
                             Params().add(search).add(key).add(json));
    return r.affected() == 1;
  });
}

std::optional<std::string> PostgresStorage::artifact(SearchId search, const std::string& key) {
  return retrying([&]() -> std::optional<std::string> {
    pg::Result r = db_->exec("SELECT value FROM artifacts WHERE search_id = $1 AND key = $2", Params().add(search).add(key));
    if (r.empty()) return std::nullopt;
    return r.text(0, 0);
  });
}

std::vector<std::string> PostgresStorage::artifact_keys(SearchId search) {
  return retrying([&]() -> std::vector<std::string> {
    pg::Result r = db_->exec("SELECT key FROM artifacts WHERE search_id = $1 ORDER BY key", Params().add(search));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

// ---- Reading ----------------------------------------------------------------------------------

std::optional<Evaluation> PostgresStorage::lookup(SearchId search, const char* column, const std::string& value, int stage) {
  pg::Result r = db_->exec(fmt::format("SELECT {} FROM evaluations e JOIN candidates c "
                                       "ON c.search_id = e.search_id AND c.idx = e.candidate "
                                       "WHERE c.search_id = $1 AND c.{} = $2 AND e.stage = $3 AND e.accepted = 1 "
                                       "AND e.status <> 'crashed' ORDER BY c.idx LIMIT 1",
                                       kEvaluationColumns, column),
                           Params().add(search).add(value).add(stage));
  if (r.empty()) return std::nullopt;
  return read_evaluation(r, 0);
}

std::optional<Evaluation> PostgresStorage::lookup_by_hash(SearchId search, const std::string& hash, int stage) {
  return retrying([&]() -> std::optional<Evaluation> {
    return lookup(search, "hash", hash, stage);
  });
}

std::optional<Evaluation> PostgresStorage::lookup_by_fingerprint(SearchId search, const std::string& fingerprint,
                                                                 int stage) {
  return retrying([&]() -> std::optional<Evaluation> {
    if (fingerprint.empty()) return std::nullopt;  // '' means "not computed", never a match
    return lookup(search, "fingerprint", fingerprint, stage);
  });
}

std::vector<Candidate> PostgresStorage::candidates(SearchId search, std::int64_t batch) {
  return retrying([&]() -> std::vector<Candidate> {
    // One batch reads candidates_by_batch: `($2 < 0 OR batch = $2)` would scan the whole search.
    Params params;
    params.add(search);
    if (batch >= 0) params.add(batch);
    pg::Result r = db_->exec(fmt::format("SELECT {} FROM candidates WHERE search_id = $1{} ORDER BY idx", kCandidateColumns,
                                         batch < 0 ? "" : " AND batch = $2"),
                             params);
    std::vector<Candidate> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_candidate(r, i));
    return out;
  });
}

std::vector<Evaluation> PostgresStorage::evaluations(SearchId search, std::int64_t candidate) {
  return retrying([&]() -> std::vector<Evaluation> {
    // One candidate reads evaluations_by_candidate: `($2 < 0 OR e.candidate = $2)` would scan the search.
    Params params;
    params.add(search);
    if (candidate >= 0) params.add(candidate);
    pg::Result r = db_->exec(fmt::format("SELECT {} FROM evaluations e WHERE e.search_id = $1{} ORDER BY e.id",
                                         kEvaluationColumns, candidate < 0 ? "" : " AND e.candidate = $2"),
                             params);
    std::vector<Evaluation> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_evaluation(r, i));
    return out;
  });
}

std::vector<Evaluation> PostgresStorage::evaluations_of_batch(SearchId search, std::int64_t batch) {
  return retrying([&]() -> std::vector<Evaluation> {
    pg::Result r = db_->exec(queries::evaluations_of_batch(schema::Dialect::PostgreSQL), Params().add(search).add(batch));
    std::vector<Evaluation> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_evaluation(r, i));
    return out;
  });
}

TaskCounts PostgresStorage::counts(SearchId search, std::int64_t batch) {
  return retrying([&]() -> TaskCounts {
    TaskCounts counts;
    pg::Transaction tx(*db_, pg::Transaction::Snapshot);  // one snapshot for both queries
    Params params;
    params.add(search);
    if (batch >= 0) params.add(batch);
    pg::Result r = db_->exec(queries::task_counts(schema::Dialect::PostgreSQL, batch >= 0), params);
    for (int i = 0; i < r.rows(); ++i) {
      std::string state = r.text(i, 0);
      std::int64_t n = r.integer(i, 1);
      if (state == "queued") counts.queued = n;
      else if (state == "running") counts.running = n;
      else if (state == "finished") counts.finished = n;
      else if (state == "crashed") counts.crashed = n;
    }
    // Results stored with their candidate (no task) count as finished.
    pg::Result resolved = db_->exec(queries::resolved_count(schema::Dialect::PostgreSQL, batch >= 0), params);
    counts.finished += resolved.integer(0, 0);
    tx.commit();
    return counts;
  });
}

std::vector<RankedResult> PostgresStorage::top(SearchId search, int limit) {
  return retrying([&]() -> std::vector<RankedResult> {
    pg::Result r = db_->exec(queries::top(schema::Dialect::PostgreSQL, limit), Params().add(search));
    std::vector<RankedResult> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({read_candidate(r, i, queries::kEvaluationColumnCount), read_evaluation(r, i)});
    return out;
  });
}

}  // namespace nos::search
