#include "controller/search/storage/sql_storage.h"

#include <map>

#include <fmt/format.h>

namespace nos::search::storage {
namespace {

// Columns of evaluations (aliased `e`) in the order read_evaluation expects.
constexpr const char* kEvaluationColumns =
    "e.id, e.candidate, e.stage, e.task, e.attempt, e.accepted, e.status, e.source, e.reused_from, e.detail, "
    "e.lr, e.metric, e.reward, e.metrics, e.curves, e.timings, e.worker, e.started_at, e.finished_at, e.seed, e.baseline";
constexpr int kEvaluationColumnCount = 21;
constexpr const char* kCandidateColumns = "idx, batch, tokens, rule, hash, fingerprint, strategy_data, created_at";
constexpr const char* kSearchColumns = "id, name, config, lease_seconds, max_attempts, crash_reward, created_at";
constexpr const char* kLeaseColumns = "id, candidate, stage, attempt, owner, claimed_at, lease_expires, seed, baseline";

// The database holds the names (result_kinds.h); one this build does not know (a newer NOS wrote
// it, or a hand edit) is bad data, named with the file or URL.
template <typename Enum>
Enum read_kind(std::optional<Enum> (*parse)(std::string_view), const Rows& r, int row, int column, const char* what,
               const std::string& location) {
  std::string text = r.text(row, column);
  if (std::optional<Enum> kind = parse(text)) return *kind;
  throw StorageError(fmt::format("{}: unknown evaluation {} '{}' (evaluation {})", location, what, text, r.integer(row, 0)));
}

Evaluation read_evaluation(const Rows& r, int row, const std::string& location) {
  Evaluation e;
  e.id = r.integer(row, 0);
  e.candidate = r.optional_integer(row, 1).value_or(kNoCandidate);
  e.stage = static_cast<int>(r.integer(row, 2));
  e.task = r.optional_integer(row, 3).value_or(0);
  e.attempt = r.integer(row, 4);
  e.accepted = r.integer(row, 5) != 0;
  e.status = read_kind(parse_status, r, row, 6, "status", location);
  e.source = read_kind(parse_source, r, row, 7, "source", location);
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
  e.seed = static_cast<int>(r.integer(row, 19));
  e.baseline = r.text(row, 20);
  return e;
}

// `first` = the column index of idx, for a statement that reads a candidate after other columns.
Candidate read_candidate(const Rows& r, int row, int first = 0) {
  int i = first;
  return {r.integer(row, i), r.integer(row, i + 1), r.text(row, i + 2), r.text(row, i + 3), r.text(row, i + 4),
          r.text(row, i + 5), r.bytes(row, i + 6), r.real(row, i + 7)};
}

SearchInfo read_search(const Rows& r, int row) {
  return {r.integer(row, 0), r.text(row, 1), r.text(row, 2),
          {r.real(row, 3), static_cast<int>(r.integer(row, 4)), r.real(row, 5)}, r.real(row, 6)};
}

Lease read_lease(SearchId search, const Rows& r, int row) {
  Lease lease;
  lease.search = search;
  lease.task = r.integer(row, 0);
  lease.candidate = r.optional_integer(row, 1).value_or(kNoCandidate);
  lease.stage = static_cast<int>(r.integer(row, 2));
  lease.attempt = r.integer(row, 3);
  lease.owner = r.text(row, 4);
  lease.claimed_at = r.real(row, 5);
  lease.expires_at = r.real(row, 6);
  lease.seed = static_cast<int>(r.integer(row, 7));
  lease.baseline = r.text(row, 8);
  return lease;
}

}  // namespace

SqlStorage::SqlStorage(std::unique_ptr<Driver> driver, OpenMode mode) : driver_(std::move(driver)) {
  prepare_schema(mode);
  driver_->opened();
}

SqlStorage::~SqlStorage() = default;

template <class Body>
auto SqlStorage::operation(Body&& body) -> decltype(body()) {
  if constexpr (std::is_void_v<decltype(body())>) {
    driver_->run(body);
  } else {
    std::optional<decltype(body())> out;
    driver_->run([&] { out.emplace(body()); });
    return std::move(*out);
  }
}

std::unique_ptr<Rows> SqlStorage::exec(std::string_view sql, const Params& params) { return driver_->exec(sql, params); }

void SqlStorage::prepare_schema(OpenMode mode) {
  const std::string& where = location();
  const bool writable = mode != OpenMode::ReadOnly;
  Transaction tx(*driver_, writable ? TxKind::Write : TxKind::Read);
  driver_->lock_schema();
  if (!driver_->has_table("nos_schema")) {
    if (!driver_->empty()) throw StorageError(fmt::format("{}: not a NOS search database ({})", where, driver_->foreign()));
    if (mode == OpenMode::Open || mode == OpenMode::ReadOnly)
      throw StorageError(fmt::format("{}: not a NOS search database (the database is empty)", where));
    // An empty database is a fine place to start.
    driver_->creating();
    for (const std::string& statement : schema::create_statements(driver_->dialect())) exec(statement);
    exec(fmt::format("INSERT INTO nos_schema (application, version, created_at) VALUES ($1, $2, {})", driver_->now()),
         Params().add(schema::kApplication).add(schema::kVersion));
    tx.commit();
    return;
  }
  auto row = exec("SELECT application, version FROM nos_schema");
  if (row->empty() || row->text(0, 0) != schema::kApplication)
    throw StorageError(
        fmt::format("{}: not a NOS search database (nos_schema does not name {})", where, schema::kApplication));
  const int version = static_cast<int>(row->integer(0, 1));
  if (version > schema::kVersion)
    throw StorageError(fmt::format("{}: schema version {} is newer than this NOS reads ({}): use a newer nos-search",
                                   where, version, schema::kVersion));
  if (version < schema::kVersion) {
    if (!writable)
      throw StorageError(fmt::format("{}: schema version {} is older than {}; open it for writing once to migrate it",
                                     where, version, schema::kVersion));
    // Step by step in this one transaction (both dialects' DDL is transactional), or refuse.
    for (int from = version; from < schema::kVersion; ++from) {
      const schema::Migration* step = nullptr;
      for (const schema::Migration& m : schema::migrations())
        if (m.from == from) step = &m;
      if (!step)
        throw StorageError(fmt::format("{}: schema version {} cannot be migrated to {} (no migration from {})", where,
                                       version, schema::kVersion, from));
      for (const std::string& statement : step->statements(driver_->dialect())) exec(statement);
    }
    exec("UPDATE nos_schema SET version = $1", Params().add(schema::kVersion));
  }
  tx.commit();
}

void SqlStorage::check_writable() const {
  if (driver_->read_only()) throw StorageError(fmt::format("{}: opened read-only", location()));
}

const LeasePolicy& SqlStorage::policy(SearchId search) {
  auto it = policies_.find(search);
  if (it != policies_.end()) return it->second;
  auto r = exec("SELECT lease_seconds, max_attempts, crash_reward FROM searches WHERE id = $1", Params().add(search));
  if (r->empty()) throw StorageError(fmt::format("{}: no search with id {}", location(), search));
  return policies_[search] = {r->real(0, 0), static_cast<int>(r->integer(0, 1)), r->real(0, 2)};
}

// ---- Searches -----------------------------------------------------------------------------------

SearchId SqlStorage::create_search(const std::string& name, const std::string& config_json, const LeasePolicy& p) {
  return operation([&]() -> SearchId {
    check_writable();
    if (p.lease_seconds <= 0 || p.max_attempts < 1)
      throw StorageError(fmt::format("{}: a lease needs lease_seconds > 0 and max_attempts >= 1", location()));
    const std::string exists = fmt::format("{}: a search named '{}' exists already", location(), name);
    Transaction tx(*driver_, TxKind::Write);
    if (std::optional<SearchInfo> found = find_search(name)) {
      // Created by the attempt whose acknowledgement was lost: the same configuration.
      if (driver_->retried() && found->config_json == config_json && found->policy.lease_seconds == p.lease_seconds &&
          found->policy.max_attempts == p.max_attempts)
        return found->id;
      throw StorageError(exists);
    }
    SearchId id = 0;
    try {
      id = exec(fmt::format("INSERT INTO searches (name, config, lease_seconds, max_attempts, crash_reward, created_at) "
                            "VALUES ($1, $2, $3, $4, $5, {}) RETURNING id",
                            driver_->now()),
                Params().add(name).add(config_json).add(p.lease_seconds).add(p.max_attempts).add(p.crash_reward))
               ->integer(0, 0);
    } catch (const StorageError& e) {
      if (driver_->unique_violation(e)) throw StorageError(exists);  // created meanwhile elsewhere
      throw;
    }
    tx.commit();
    return id;
  });
}

std::optional<SearchInfo> SqlStorage::find_search(const std::string& name) {
  return operation([&]() -> std::optional<SearchInfo> {
    auto r = exec(fmt::format("SELECT {} FROM searches WHERE name = $1", kSearchColumns), Params().add(name));
    if (r->empty()) return std::nullopt;
    return read_search(*r, 0);
  });
}

void SqlStorage::update_config(SearchId search, const std::string& config_json) {
  operation([&] {  // the same value again after a lost acknowledgement: harmless
    check_writable();
    auto r = exec("UPDATE searches SET config = $1 WHERE id = $2", Params().add(config_json).add(search));
    if (r->affected() != 1) throw StorageError(fmt::format("{}: no search with id {}", location(), search));
  });
}

std::vector<SearchInfo> SqlStorage::searches() {
  return operation([&]() -> std::vector<SearchInfo> {
    auto r = exec(fmt::format("SELECT {} FROM searches ORDER BY id", kSearchColumns));
    std::vector<SearchInfo> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_search(*r, i));
    return out;
  });
}

// ---- Candidates and the queue -------------------------------------------------------------------

std::int64_t SqlStorage::enqueue_batch(SearchId search, std::int64_t batch, const std::vector<NewCandidate>& batch_candidates) {
  return operation([&]() -> std::int64_t {
    check_writable();
    policy(search);  // the search must exist
    for (const NewCandidate& c : batch_candidates) {
      if (c.resolved && c.deferred)
        throw StorageError(fmt::format("{}: a candidate cannot be both resolved and deferred", location()));
    }
    Transaction tx(*driver_, TxKind::Write);
    // The search's row lock orders enqueuers, so that indices continue the sequence without gaps.
    exec(fmt::format("SELECT id FROM searches WHERE id = $1{}", driver_->lock(RowLock::NoKeyUpdate)), Params().add(search));
    if (driver_->retried()) {
      // The attempt whose acknowledgement was lost may have stored the batch: then it is there with
      // these very rules, in order, and storing it again would duplicate it.
      auto stored = exec("SELECT idx, tokens FROM candidates WHERE search_id = $1 AND batch = $2 ORDER BY idx",
                         Params().add(search).add(batch));
      bool same = stored->size() == static_cast<int>(batch_candidates.size()) && stored->size() > 0;
      for (int i = 0; same && i < stored->size(); ++i) same = stored->text(i, 1) == batch_candidates[i].tokens;
      if (same) {
        tx.commit();
        return stored->integer(0, 0);
      }
    }
    const std::int64_t first =
        exec("SELECT COALESCE(MAX(idx) + 1, 0) FROM candidates WHERE search_id = $1", Params().add(search))->integer(0, 0);
    const std::string insert = fmt::format(
        "INSERT INTO candidates (search_id, idx, batch, tokens, rule, hash, fingerprint, strategy_data, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {})",
        driver_->now());
    const std::string queue = fmt::format(
        "INSERT INTO tasks (search_id, candidate, stage, state, enqueued_at) VALUES ($1, $2, 1, 'queued', {})",
        driver_->now());
    std::int64_t index = first;
    bool queued = false;
    for (const NewCandidate& c : batch_candidates) {
      exec(insert, Params().add(search).add(index).add(batch).add(c.tokens).add(c.rule).add(c.hash).add(c.fingerprint)
                       .add_bytes(c.strategy_data));
      if (c.resolved) {
        insert_evaluation(search, index, 0, 0, true, *c.resolved, "", std::nullopt);
      } else if (!c.deferred) {
        exec(queue, Params().add(search).add(index));
        queued = true;
      }
      ++index;
    }
    if (queued) driver_->notify(search);
    tx.commit();
    return first;
  });
}

bool SqlStorage::has_task(SearchId search, std::int64_t candidate, int stage, int seed) {
  return operation([&]() -> bool {
    return exec("SELECT count(*) FROM tasks WHERE search_id = $1 AND candidate = $2 AND stage = $3 AND seed = $4",
                Params().add(search).add(candidate).add(stage).add(seed))
               ->integer(0, 0) != 0;
  });
}

std::vector<int> SqlStorage::stage_seeds(SearchId search, const std::string& hash, int stage) {
  return operation([&]() -> std::vector<int> {
    auto r = exec("SELECT DISTINCT t.seed FROM candidates c CROSS JOIN tasks t WHERE t.search_id = c.search_id "
                  "AND t.candidate = c.idx AND c.search_id = $1 AND c.hash = $2 AND t.stage = $3 ORDER BY t.seed",
                  Params().add(search).add(hash).add(stage));
    std::vector<int> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(static_cast<int>(r->integer(i, 0)));
    return out;
  });
}

bool SqlStorage::enqueue_baseline(SearchId search, const std::string& baseline, int stage, int seed) {
  return operation([&]() -> bool {
    check_writable();
    if (baseline.empty()) throw StorageError(fmt::format("{}: a baseline's task needs the baseline's name", location()));
    policy(search);  // the search must exist
    Transaction tx(*driver_, TxKind::Write);
    // Queued by another attempt (or one whose acknowledgement was lost): the task is there, once.
    auto inserted = exec(fmt::format("INSERT INTO tasks (search_id, candidate, stage, seed, baseline, state, enqueued_at) "
                                     "VALUES ($1, NULL, $2, $3, $4, 'queued', {}) ON CONFLICT (search_id, baseline, stage, "
                                     "seed) WHERE candidate IS NULL DO NOTHING",
                                     driver_->now()),
                         Params().add(search).add(stage).add(seed).add(baseline));
    const bool queued = inserted->affected() == 1;
    if (queued) driver_->notify(search);
    tx.commit();
    return queued;
  });
}

std::int64_t SqlStorage::enqueue_stage(SearchId search, std::int64_t candidate, int stage, int seed) {
  return operation([&]() -> std::int64_t {
    check_writable();
    Transaction tx(*driver_, TxKind::Write);
    if (exec("SELECT count(*) FROM candidates WHERE search_id = $1 AND idx = $2", Params().add(search).add(candidate))
            ->integer(0, 0) == 0)
      throw StorageError(fmt::format("{}: search {} has no candidate {}", location(), search, candidate));
    const std::string duplicate =
        seed == 0 ? fmt::format("{}: candidate {} already has a stage-{} task", location(), candidate, stage)
                  : fmt::format("{}: candidate {} already has a stage-{} task on seed {}", location(), candidate, stage, seed);
    if (has_task(search, candidate, stage, seed)) {
      if (driver_->retried())  // queued by the attempt whose acknowledgement was lost
        return exec("SELECT id FROM tasks WHERE search_id = $1 AND candidate = $2 AND stage = $3 AND seed = $4",
                    Params().add(search).add(candidate).add(stage).add(seed))
            ->integer(0, 0);
      throw StorageError(duplicate);
    }
    std::int64_t task = 0;
    try {
      task = exec(fmt::format("INSERT INTO tasks (search_id, candidate, stage, seed, state, enqueued_at) "
                              "VALUES ($1, $2, $3, $4, 'queued', {}) RETURNING id",
                              driver_->now()),
                  Params().add(search).add(candidate).add(stage).add(seed))
                 ->integer(0, 0);
    } catch (const StorageError& e) {
      if (driver_->unique_violation(e)) throw StorageError(duplicate);
      throw;
    }
    driver_->notify(search);
    tx.commit();
    return task;
  });
}

std::optional<ClaimedTask> SqlStorage::claim(SearchId search, const std::string& owner) {
  return operation([&]() -> std::optional<ClaimedTask> {
    check_writable();
    const LeasePolicy& p = policy(search);
    // One short transaction: PostgreSQL's claimers skip the rows another one locked (SKIP LOCKED),
    // so they never wait on each other and never get the same task; SQLite's hold the file's lock.
    Transaction tx(*driver_, TxKind::Write);
    if (driver_->retried()) {
      // A claim whose acknowledgement was lost left a task running under this owner that nobody
      // works on: handed back (no attempt charged) rather than left to expire.
      auto orphans = exec(fmt::format("SELECT id FROM tasks WHERE search_id = $1 AND owner = $2 AND state = 'running' "
                                      "ORDER BY id{}",
                                      driver_->lock(RowLock::UpdateSkipLocked)),
                          Params().add(search).add(owner));
      for (int i = 0; i < orphans->size(); ++i)
        if (!held_.count(orphans->integer(i, 0)))
          exec("UPDATE tasks SET state = 'queued', owner = NULL, lease_expires = NULL WHERE id = $1",
               Params().add(orphans->integer(i, 0)));
    }
    requeue_expired_locked(search);
    auto first = exec(fmt::format("SELECT id, candidate, stage, seed, baseline FROM tasks WHERE search_id = $1 AND state = 'queued' "
                                  "ORDER BY id LIMIT 1{}",
                                  driver_->lock(RowLock::UpdateSkipLocked)),
                      Params().add(search));
    if (first->empty()) {
      tx.commit();  // keeps what requeue_expired_locked did
      return std::nullopt;
    }
    ClaimedTask claimed;
    Lease& lease = claimed.lease;
    lease.search = search;
    lease.task = first->integer(0, 0);
    lease.candidate = first->optional_integer(0, 1).value_or(kNoCandidate);
    lease.stage = static_cast<int>(first->integer(0, 2));
    lease.seed = static_cast<int>(first->integer(0, 3));
    lease.baseline = first->text(0, 4);
    lease.owner = owner;
    auto updated = exec(fmt::format("UPDATE tasks SET state = 'running', owner = $1, attempt = attempt + 1, "
                                    "lease_expires = {0} + $2, heartbeat_at = {0}, claimed_at = {0} "
                                    "WHERE id = $3 RETURNING attempt, lease_expires, claimed_at",
                                    driver_->now()),
                        Params().add(owner).add(p.lease_seconds).add(lease.task));
    lease.attempt = updated->integer(0, 0);
    lease.expires_at = updated->real(0, 1);
    lease.claimed_at = updated->real(0, 2);
    if (lease.candidate == kNoCandidate) {
      claimed.candidate.index = kNoCandidate;  // a baseline: the lease names its optimizer
    } else {
      auto c = exec(fmt::format("SELECT {} FROM candidates WHERE search_id = $1 AND idx = $2", kCandidateColumns),
                    Params().add(search).add(lease.candidate));
      claimed.candidate = read_candidate(*c, 0);
    }
    tx.commit();
    held_.insert(lease.task);
    return claimed;
  });
}

bool SqlStorage::heartbeat(Lease& lease) {
  return operation([&]() -> bool {
    check_writable();
    const LeasePolicy& p = policy(lease.search);
    auto r = exec(fmt::format("UPDATE tasks SET lease_expires = {0} + $1, heartbeat_at = {0} "
                              "WHERE id = $2 AND owner = $3 AND attempt = $4 AND state = 'running' "
                              "RETURNING lease_expires",
                              driver_->now()),
                  Params().add(p.lease_seconds).add(lease.task).add(lease.owner).add(lease.attempt));
    if (r->size() != 1) return false;
    lease.expires_at = r->real(0, 0);
    return true;
  });
}

bool SqlStorage::finish(const Lease& lease, const EvaluationResult& result) {
  return operation([&]() -> bool {
    check_writable();
    if (result.stage != lease.stage || result.seed != lease.seed)
      throw StorageError(fmt::format("{}: a stage-{} result on seed {} for a stage-{} lease on seed {}", location(),
                                     result.stage, result.seed, lease.stage, lease.seed));
    Transaction tx(*driver_, TxKind::Write);
    // The fence: only the lease's current owner and attempt may end a running task. A lease that has
    // expired but was not yet taken over still counts: no newer attempt exists to protect. (On
    // PostgreSQL the UPDATE waits for a claimer that holds the row and then re-checks the condition.)
    auto r = exec(fmt::format("UPDATE tasks SET state = 'finished', finished_at = {}, lease_expires = NULL "
                              "WHERE id = $1 AND owner = $2 AND attempt = $3 AND state = 'running'",
                              driver_->now()),
                  Params().add(lease.task).add(lease.owner).add(lease.attempt));
    const bool accepted = r->affected() == 1;
    held_.erase(lease.task);
    if (!accepted && driver_->retried()) {
      // The attempt whose acknowledgement was lost stored this very result (accepted, or refused
      // for a stale lease): its answer stands, and the result is not stored twice.
      auto mine = exec("SELECT accepted FROM evaluations WHERE search_id = $1 AND task = $2 AND attempt = $3 "
                       "AND worker = $4 AND stage = $5 AND status = $6 AND source = $7 AND detail = $8 ORDER BY id LIMIT 1",
                       Params().add(lease.search).add(lease.task).add(lease.attempt).add(lease.owner).add(result.stage)
                           .add(name(result.status)).add(name(result.source)).add(result.detail));
      if (!mine->empty()) {
        tx.commit();
        return mine->integer(0, 0) != 0;
      }
    }
    insert_evaluation(lease.search, lease.candidate, lease.task, lease.attempt, accepted, result, lease.owner,
                      lease.claimed_at, lease.baseline);
    tx.commit();
    return accepted;
  });
}

void SqlStorage::store_result(SearchId search, std::int64_t candidate, const EvaluationResult& result) {
  operation([&] {
    check_writable();
    Transaction tx(*driver_, TxKind::Write);
    if (exec("SELECT count(*) FROM candidates WHERE search_id = $1 AND idx = $2", Params().add(search).add(candidate))
            ->integer(0, 0) == 0)
      throw StorageError(fmt::format("{}: search {} has no candidate {}", location(), search, candidate));
    if (has_task(search, candidate, result.stage, result.seed))
      throw StorageError(fmt::format("{}: candidate {} has a stage-{} task: its result comes from it", location(),
                                     candidate, result.stage));
    const std::string done =
        fmt::format("{}: candidate {} has a stage-{} result already", location(), candidate, result.stage);
    auto accepted = exec("SELECT status, source, reused_from, detail FROM evaluations WHERE search_id = $1 "
                         "AND candidate = $2 AND stage = $3 AND seed = $4 AND accepted = 1",
                         Params().add(search).add(candidate).add(result.stage).add(result.seed));
    if (!accepted->empty()) {
      // Stored by the attempt whose acknowledgement was lost: the same result, so done.
      if (driver_->retried() && accepted->text(0, 0) == name(result.status) && accepted->text(0, 1) == name(result.source) &&
          accepted->optional_integer(0, 2) == result.reused_from && accepted->text(0, 3) == result.detail) {
        tx.commit();
        return;
      }
      throw StorageError(done);
    }
    try {
      insert_evaluation(search, candidate, 0, 0, true, result, "", std::nullopt);
    } catch (const StorageError& e) {
      if (driver_->unique_violation(e)) throw StorageError(done);  // stored meanwhile elsewhere
      throw;
    }
    tx.commit();
  });
}

void SqlStorage::release(const Lease& lease) {
  operation([&] {
    check_writable();
    held_.erase(lease.task);
    Transaction tx(*driver_, TxKind::Write);
    auto r = exec("UPDATE tasks SET state = 'queued', owner = NULL, lease_expires = NULL "
                  "WHERE id = $1 AND owner = $2 AND attempt = $3 AND state = 'running'",
                  Params().add(lease.task).add(lease.owner).add(lease.attempt));
    if (r->affected() == 1) driver_->notify(lease.search);
    tx.commit();
  });
}

void SqlStorage::abandon(const Lease& lease, const std::string& why) {
  operation([&] {
    check_writable();
    held_.erase(lease.task);
    policy(lease.search);
    Transaction tx(*driver_, TxKind::Write);
    auto current = exec(fmt::format("SELECT id FROM tasks WHERE id = $1 AND owner = $2 AND attempt = $3 "
                                    "AND state = 'running'{}",
                                    driver_->lock(RowLock::Update)),
                        Params().add(lease.task).add(lease.owner).add(lease.attempt));
    if (current->size() == 1) fail_attempt_locked(lease, why);
    tx.commit();
  });
}

int SqlStorage::abandon_owner(SearchId search, const std::string& owner, const std::string& why) {
  return operation([&]() -> int {
    check_writable();
    policy(search);
    Transaction tx(*driver_, TxKind::Write);
    auto held = exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' AND owner = $2 "
                                 "ORDER BY claimed_at, id{}",
                                 kLeaseColumns, driver_->lock(RowLock::Update)),
                     Params().add(search).add(owner));
    for (int i = 0; i < held->size(); ++i) fail_attempt_locked(read_lease(search, *held, i), why);
    tx.commit();
    return held->size();
  });
}

std::vector<Lease> SqlStorage::running(SearchId search) {
  return operation([&]() -> std::vector<Lease> {
    auto r = exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' ORDER BY claimed_at, id",
                              kLeaseColumns),
                  Params().add(search));
    std::vector<Lease> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_lease(search, *r, i));
    return out;
  });
}

int SqlStorage::requeue_expired(SearchId search) {
  return operation([&]() -> int {
    check_writable();
    policy(search);
    Transaction tx(*driver_, TxKind::Write);
    int n = requeue_expired_locked(search);
    tx.commit();
    return n;
  });
}

int SqlStorage::requeue_expired_locked(SearchId search) {
  // Rows another process holds (finishing or re-queuing them now) are skipped: it decides them.
  auto expired = exec(fmt::format("SELECT {} FROM tasks WHERE search_id = $1 AND state = 'running' "
                                  "AND lease_expires < {} ORDER BY id{}",
                                  kLeaseColumns, driver_->now(), driver_->lock(RowLock::UpdateSkipLocked)),
                      Params().add(search));
  for (int i = 0; i < expired->size(); ++i) {
    Lease e = read_lease(search, *expired, i);
    fail_attempt_locked(e, fmt::format("the lease of {} (attempt {}) expired", e.owner, e.attempt));
  }
  return expired->size();
}

void SqlStorage::fail_attempt_locked(const Lease& lease, const std::string& why) {
  const LeasePolicy& p = policy(lease.search);
  const bool last =
      exec("SELECT failures FROM tasks WHERE id = $1", Params().add(lease.task))->integer(0, 0) + 1 >= p.max_attempts;
  EvaluationResult crashed;
  crashed.stage = lease.stage;
  crashed.seed = lease.seed;
  crashed.status = Status::Crashed;
  crashed.detail = why;
  if (last) {
    crashed.reward = p.crash_reward;
    exec(fmt::format("UPDATE tasks SET state = 'crashed', failures = failures + 1, lease_expires = NULL, "
                     "finished_at = {} WHERE id = $1",
                     driver_->now()),
         Params().add(lease.task));
  } else {
    exec("UPDATE tasks SET state = 'queued', failures = failures + 1, owner = NULL, lease_expires = NULL WHERE id = $1",
         Params().add(lease.task));
    driver_->notify(lease.search);
  }
  // The lost attempt is kept; the last one is the candidate's accepted (crashed) result.
  insert_evaluation(lease.search, lease.candidate, lease.task, lease.attempt, last, crashed, lease.owner,
                    lease.claimed_at, lease.baseline);
}

void SqlStorage::insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task, std::int64_t attempt,
                                   bool accepted, const EvaluationResult& r, const std::string& worker,
                                   std::optional<double> started_at, std::string_view baseline) {
  Params params;
  params.add(search);
  if (candidate == kNoCandidate) params.add_null();
  else params.add(candidate);
  params.add(r.stage);
  if (task) params.add(task);
  else params.add_null();
  params.add(attempt).add(accepted ? 1 : 0).add(name(r.status)).add(name(r.source)).add(r.reused_from);
  params.add(r.detail).add(r.lr).add(r.metric).add(r.reward);
  params.add(r.metrics_json).add(r.curves_json).add(r.timings_json).add(worker).add(started_at);
  params.add(r.seed).add(baseline);
  exec(fmt::format("INSERT INTO evaluations (search_id, candidate, stage, task, attempt, accepted, status, source, "
                   "reused_from, detail, lr, metric, reward, metrics, curves, timings, worker, started_at, finished_at, "
                   "seed, baseline) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
                   "COALESCE(CAST($18 AS DOUBLE PRECISION), {0}), {0}, $19, $20)",
                   driver_->now()),
       params);
}

// ---- Strategy state ---------------------------------------------------------------------------

void SqlStorage::save_strategy_state(SearchId search, std::int64_t batch, const std::string& bytes,
                                     const std::string& statistics_json) {
  operation([&] {
    check_writable();
    exec(fmt::format("INSERT INTO strategy_states (search_id, batch, state, statistics, saved_at) "
                     "VALUES ($1, $2, $3, $4, {}) ON CONFLICT (search_id, batch) DO UPDATE SET "
                     "state = excluded.state, statistics = excluded.statistics, saved_at = excluded.saved_at",
                     driver_->now()),
         Params().add(search).add(batch).add_bytes(bytes).add(statistics_json));
  });
}

std::optional<StrategyState> SqlStorage::latest_strategy_state(SearchId search) {
  return operation([&]() -> std::optional<StrategyState> {
    auto r = exec("SELECT batch, state FROM strategy_states WHERE search_id = $1 ORDER BY batch DESC LIMIT 1",
                  Params().add(search));
    if (r->empty()) return std::nullopt;
    return StrategyState{r->integer(0, 0), r->bytes(0, 1)};
  });
}

void SqlStorage::drop_strategy_states_before(SearchId search, std::int64_t batch) {
  operation([&] {  // idempotent: a retry after a lost acknowledgement changes nothing
    check_writable();
    exec("UPDATE strategy_states SET state = $1 WHERE search_id = $2 AND batch < $3 AND length(state) > 0",
         Params().add_bytes("").add(search).add(batch));
  });
}

std::vector<BatchRecord> SqlStorage::batch_records(SearchId search) {
  return operation([&]() -> std::vector<BatchRecord> {
    auto r = exec("SELECT batch, statistics, saved_at, length(state) FROM strategy_states WHERE search_id = $1 "
                  "ORDER BY batch",
                  Params().add(search));
    std::vector<BatchRecord> out;
    for (int i = 0; i < r->size(); ++i) out.push_back({r->integer(i, 0), r->text(i, 1), r->real(i, 2), r->integer(i, 3)});
    return out;
  });
}

// ---- Artifacts --------------------------------------------------------------------------------

void SqlStorage::put_artifact(SearchId search, const std::string& key, const std::string& json) {
  operation([&] {
    check_writable();
    policy(search);  // the search must exist
    exec(fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES ($1, $2, $3, {}) "
                     "ON CONFLICT (search_id, key) DO UPDATE SET value = excluded.value, saved_at = excluded.saved_at",
                     driver_->now()),
         Params().add(search).add(key).add(json));
  });
}

bool SqlStorage::add_artifact(SearchId search, const std::string& key, const std::string& json) {
  return operation([&]() -> bool {
    check_writable();
    policy(search);  // the search must exist
    return exec(fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES ($1, $2, $3, {}) "
                            "ON CONFLICT (search_id, key) DO NOTHING",
                            driver_->now()),
                Params().add(search).add(key).add(json))
               ->affected() == 1;
  });
}

std::optional<std::string> SqlStorage::artifact(SearchId search, const std::string& key) {
  return operation([&]() -> std::optional<std::string> {
    auto r = exec("SELECT value FROM artifacts WHERE search_id = $1 AND key = $2", Params().add(search).add(key));
    if (r->empty()) return std::nullopt;
    return r->text(0, 0);
  });
}

std::vector<std::string> SqlStorage::artifact_keys(SearchId search) {
  return operation([&]() -> std::vector<std::string> {
    auto r = exec("SELECT key FROM artifacts WHERE search_id = $1 ORDER BY key", Params().add(search));
    std::vector<std::string> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(r->text(i, 0));
    return out;
  });
}

// ---- Reading ----------------------------------------------------------------------------------

std::vector<Evaluation> SqlStorage::read_evaluations(const std::string& sql, const Params& params) {
  return operation([&]() -> std::vector<Evaluation> {
    auto r = exec(sql, params);
    std::vector<Evaluation> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_evaluation(*r, i, location()));
    return out;
  });
}

std::optional<Evaluation> SqlStorage::lookup(SearchId search, const char* column, const std::string& value, int stage) {
  std::vector<Evaluation> found =
      read_evaluations(fmt::format("SELECT {} FROM evaluations e JOIN candidates c "
                                   "ON c.search_id = e.search_id AND c.idx = e.candidate "
                                   "WHERE c.search_id = $1 AND c.{} = $2 AND e.stage = $3 AND e.accepted = 1 "
                                   "AND e.status <> 'crashed' ORDER BY c.idx LIMIT 1",
                                   kEvaluationColumns, column),
                       Params().add(search).add(value).add(stage));
  if (found.empty()) return std::nullopt;
  return found[0];
}

std::optional<Evaluation> SqlStorage::lookup_by_hash(SearchId search, const std::string& hash, int stage) {
  return lookup(search, "hash", hash, stage);
}

std::optional<Evaluation> SqlStorage::lookup_by_fingerprint(SearchId search, const std::string& fingerprint, int stage) {
  if (fingerprint.empty()) return std::nullopt;  // '' means "not computed", never a match
  return lookup(search, "fingerprint", fingerprint, stage);
}

std::vector<Candidate> SqlStorage::candidates(SearchId search, std::int64_t batch) {
  return operation([&]() -> std::vector<Candidate> {
    // One batch reads candidates_by_batch: `($2 < 0 OR batch = $2)` would scan the whole search.
    Params params;
    params.add(search);
    if (batch >= 0) params.add(batch);
    auto r = exec(fmt::format("SELECT {} FROM candidates WHERE search_id = $1{} ORDER BY idx", kCandidateColumns,
                              batch < 0 ? "" : " AND batch = $2"),
                  params);
    std::vector<Candidate> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_candidate(*r, i));
    return out;
  });
}

std::vector<Evaluation> SqlStorage::evaluations(SearchId search, std::int64_t candidate) {
  // One candidate reads evaluations_by_candidate: `($2 < 0 OR e.candidate = $2)` would scan the search.
  Params params;
  params.add(search);
  if (candidate >= 0) params.add(candidate);
  return read_evaluations(fmt::format("SELECT {} FROM evaluations e WHERE e.search_id = $1{} ORDER BY e.id",
                                      kEvaluationColumns,
                                      candidate < 0 ? " AND e.candidate IS NOT NULL" : " AND e.candidate = $2"),
                          params);
}

std::vector<Evaluation> SqlStorage::baseline_results(SearchId search) {
  return read_evaluations(fmt::format("SELECT {} FROM evaluations e WHERE e.search_id = $1 AND e.candidate IS NULL "
                                      "AND e.accepted = 1 ORDER BY e.baseline, e.stage, e.seed",
                                      kEvaluationColumns),
                          Params().add(search));
}

// A batch's reads name the batch's candidates first with CROSS JOIN: SQLite then keeps that order
// (its documented way to fix a join order; without ANALYZE statistics it would start from the
// search's whole evaluations or tasks), and PostgreSQL plans it as the inner join it is. The
// search's counts are separate texts, not `($2 < 0 OR c.batch = $2)`, which no index serves.
namespace queries {

std::string evaluations_of_batch() {
  // From the batch's candidates (candidates_by_batch) to their evaluations (evaluations_by_candidate).
  return fmt::format("SELECT {} FROM candidates c CROSS JOIN evaluations e WHERE e.search_id = c.search_id "
                     "AND e.candidate = c.idx AND c.search_id = $1 AND c.batch = $2 ORDER BY e.candidate, e.id",
                     kEvaluationColumns);
}

std::string task_counts(bool one_batch) {
  // The search's read tasks_by_state alone.
  if (!one_batch) return "SELECT state, count(*) FROM tasks WHERE search_id = $1 GROUP BY state";
  return "SELECT t.state, count(*) FROM candidates c CROSS JOIN tasks t WHERE t.search_id = c.search_id "
         "AND t.candidate = c.idx AND c.search_id = $1 AND c.batch = $2 GROUP BY t.state";
}

std::string resolved_count(bool one_batch) {
  // The search's are counted in the evaluations_resolved index.
  if (!one_batch) return "SELECT count(*) FROM evaluations WHERE search_id = $1 AND task IS NULL AND accepted = 1";
  return "SELECT count(*) FROM candidates c CROSS JOIN evaluations e WHERE e.search_id = c.search_id "
         "AND e.candidate = c.idx AND c.search_id = $1 AND c.batch = $2 AND e.task IS NULL AND e.accepted = 1";
}

}  // namespace queries

std::vector<Evaluation> SqlStorage::evaluations_of_batch(SearchId search, std::int64_t batch) {
  return read_evaluations(queries::evaluations_of_batch(), Params().add(search).add(batch));
}

TaskCounts SqlStorage::counts(SearchId search, std::int64_t batch) {
  const bool one_batch = batch >= 0;
  Params params;
  params.add(search);
  if (one_batch) params.add(batch);
  return operation([&]() -> TaskCounts {
    TaskCounts counts;
    Transaction tx(*driver_, TxKind::Read);  // one snapshot for both queries
    auto r = exec(queries::task_counts(one_batch), params);
    for (int i = 0; i < r->size(); ++i) {
      const std::string state = r->text(i, 0);
      const std::int64_t n = r->integer(i, 1);
      if (state == "queued") counts.queued = n;
      else if (state == "running") counts.running = n;
      else if (state == "finished") counts.finished = n;
      else if (state == "crashed") counts.crashed = n;
    }
    // Results stored with their candidate (no task) count as finished.
    counts.finished += exec(queries::resolved_count(one_batch), params)->integer(0, 0);
    tx.commit();
    return counts;
  });
}

std::vector<RankedResult> SqlStorage::top(SearchId search, int limit) {
  return operation([&]() -> std::vector<RankedResult> {
    // Ranks every accepted result within its hash (highest stage, then reward, then the earliest
    // candidate), keeps each hash's first, and orders those the same way. `reward IS NULL` sorts
    // false before true in both dialects; no limit is SQLite's LIMIT -1, PostgreSQL's LIMIT ALL.
    constexpr const char* kOrder = "e.stage DESC, (e.reward IS NULL), e.reward DESC, c.idx";
    const bool sqlite = driver_->dialect() == schema::Dialect::SQLite;
    auto r = exec(fmt::format("SELECT * FROM (SELECT {0}, c.{1}, ROW_NUMBER() OVER (PARTITION BY c.hash ORDER BY {2}) "
                              "AS nth, ROW_NUMBER() OVER (ORDER BY {2}) AS position FROM evaluations e JOIN candidates c "
                              "ON c.search_id = e.search_id AND c.idx = e.candidate WHERE e.search_id = $1 "
                              "AND e.accepted = 1) ranked WHERE nth = 1 ORDER BY position LIMIT {3}",
                              kEvaluationColumns, "idx, c.batch, c.tokens, c.rule, c.hash, c.fingerprint, "
                              "c.strategy_data, c.created_at", kOrder,
                              limit > 0 ? std::to_string(limit) : sqlite ? "-1" : "ALL"),
                  Params().add(search));
    std::vector<RankedResult> out;
    for (int i = 0; i < r->size(); ++i)
      out.push_back({read_candidate(*r, i, kEvaluationColumnCount), read_evaluation(*r, i, location()), {}});
    // Each rule's results at its stage, one per seed slot: the funnel's stages beyond the first
    // (the first trains each candidate once, on its own seed).
    std::map<std::pair<std::string, int>, std::map<int, Evaluation>> at_stage;
    auto seeds = exec(fmt::format("SELECT {}, c.hash FROM evaluations e JOIN candidates c ON c.search_id = e.search_id "
                                  "AND c.idx = e.candidate WHERE e.search_id = $1 AND e.accepted = 1 AND e.stage >= 2 "
                                  "ORDER BY c.idx",
                                  kEvaluationColumns),
                      Params().add(search));
    for (int i = 0; i < seeds->size(); ++i) {
      Evaluation e = read_evaluation(*seeds, i, location());
      at_stage[{seeds->text(i, kEvaluationColumnCount), e.stage}].emplace(e.seed, e);  // the earliest candidate's
    }
    for (RankedResult& ranked : out) {
      auto found = at_stage.find({ranked.candidate.hash, ranked.evaluation.stage});
      if (found == at_stage.end()) ranked.seeds = {ranked.evaluation};
      else
        for (auto& [seed, e] : found->second) ranked.seeds.push_back(e);
    }
    return out;
  });
}

}  // namespace nos::search::storage
