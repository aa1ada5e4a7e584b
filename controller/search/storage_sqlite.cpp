#include "controller/search/storage_sqlite.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "controller/search/sqlite_db.h"
#include "controller/search/storage_queries.h"
#include "controller/search/storage_schema.h"
#include "dsl/input_file.h"

namespace nos::search {
namespace {

// The database clock in unix seconds with sub-second precision (SQLite 3.40 has no 'subsec').
constexpr const char* kNow = "((julianday('now') - 2440587.5) * 86400.0)";
// 'NOSS': PRAGMA application_id, so `file` and sqlite tools can tell a NOS search at a glance.
constexpr int kApplicationId = 0x4E4F5353;

void check_result(const std::string& path, const EvaluationResult& r) {
  if (!is_status(r.status))
    throw StorageError(fmt::format("{}: unknown evaluation status '{}'", path, r.status));
  if (!is_source(r.source))
    throw StorageError(fmt::format("{}: unknown evaluation source '{}'", path, r.source));
}

using queries::kCandidateColumns;
using queries::kEvaluationColumns;
using queries::kSearchColumns;

Evaluation read_evaluation(const sqlite::Statement& s) {
  Evaluation e;
  e.id = s.integer(0);
  e.candidate = s.integer(1);
  e.stage = static_cast<int>(s.integer(2));
  e.task = s.optional_integer(3).value_or(0);
  e.attempt = s.integer(4);
  e.accepted = s.integer(5) != 0;
  e.status = s.text(6);
  e.source = s.text(7);
  e.reused_from = s.optional_integer(8);
  e.detail = s.text(9);
  e.lr = s.optional_real(10);
  e.metric = s.optional_real(11);
  e.reward = s.optional_real(12);
  e.metrics_json = s.text(13);
  e.curves_json = s.text(14);
  e.timings_json = s.text(15);
  e.worker = s.text(16);
  e.started_at = s.real(17);
  e.finished_at = s.real(18);
  return e;
}

// `first` = the column index of idx, for a statement that reads a candidate after other columns.
Candidate read_candidate(const sqlite::Statement& s, int first = 0) {
  int i = first;
  return {s.integer(i), s.integer(i + 1), s.text(i + 2), s.text(i + 3), s.text(i + 4), s.text(i + 5), s.blob(i + 6),
          s.real(i + 7)};
}

// A read-only open that leaves nothing behind. A reader of a WAL database needs the -shm file
// (the WAL's index), which SQLite creates beside the database when it is missing and, read-only,
// cannot remove again: every `status` left DB-wal and DB-shm behind. So:
//  - a -wal file exists: a connection has the database open now (a running search), or one was
//    killed and its journal awaits recovery: read through them as usual; they are that
//    connection's (or the next writer's) to remove, and stay as they were;
//  - none exists: no connection holds the database and every commit is in the file, so it is
//    opened as immutable (no -wal, no -shm, no locks): it reads the file as it is. Were a writer to
//    open it meanwhile, it would write to a new -wal first; only its checkpoints (after a whole
//    batch, or its close) change the file, far later than a reading command's reads.
// (A -journal file, a rollback journal left by a creation killed before the switch to WAL, is
// treated like a -wal file: SQLite, not immutable, must see it.)
// Returns that file: URI, or "" to open the path read-only as usual.
std::string read_only_uri(const std::string& path) {
  for (const char* journal : {"-wal", "-journal"}) {
    std::error_code ec;
    if (std::filesystem::exists(path + journal, ec) || ec) return "";
  }
  std::string uri = path.starts_with('/') ? "file://" : "file:";  // an empty authority: "//x" stays a path
  for (unsigned char c : path) {
    if (c == '?' || c == '#' || c == '%' || c < 0x20 || c >= 0x7f) uri += fmt::format("%{:02X}", c);
    else uri += static_cast<char>(c);
  }
  return uri + "?immutable=1";
}

// Creates `path` exclusively (O_EXCL: two runs given the same new path cannot both take it), as
// an empty file SQLite then opens. StorageError naming it when anything is there already.
void create_exclusively(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST) throw StorageError(fmt::format("{}: cannot create the database: {}", path, std::strerror(errno)));
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec)
    throw StorageError(fmt::format("{}: already exists (an empty file): a new search needs a path that does not exist "
                                   "yet (remove it, or choose another file)",
                                   path));
  throw StorageError(fmt::format("{}: already exists (resume it, or choose another file)", path));
}

SearchInfo read_search(const sqlite::Statement& s) {
  return {s.integer(0), s.text(1), s.text(2), {s.real(3), static_cast<int>(s.integer(4)), s.real(5)}, s.real(6)};
}

}  // namespace

SqliteStorage::SqliteStorage(std::string path, OpenMode mode)
    : path_(std::move(path)), read_only_(mode == OpenMode::ReadOnly) {
  // Before anything opens it: SQLite would wait for a writer on a FIFO forever, and say only
  // "disk I/O error" for a device.
  if (std::string kind = dsl::non_regular_kind(path_); !kind.empty())
    throw StorageError(fmt::format("{}: is {}, not a search database", path_, kind));
  std::error_code ec;
  bool exists = std::filesystem::exists(path_, ec);
  bool empty = !exists || std::filesystem::file_size(path_, ec) == 0;
  bool create = false;
  switch (mode) {
    case OpenMode::Create:
      create_exclusively(path_);  // even an empty file is refused: the path must not exist yet
      create = true;
      break;
    case OpenMode::OpenOrCreate: create = empty; break;
    case OpenMode::Open:
    case OpenMode::ReadOnly:
      if (!exists) throw StorageError(fmt::format("{}: no such search database", path_));
      if (empty) throw StorageError(fmt::format("{}: not a NOS search database (the file is empty)", path_));
      break;
  }
  try {
    connect(create);
  } catch (...) {
    if (mode == OpenMode::Create) {  // the file this constructor made, not left behind half made
      db_.reset();
      std::filesystem::remove(path_, ec);
    }
    throw;
  }
}

void SqliteStorage::connect(bool create) {
  int flags = read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  db_ = std::make_unique<sqlite::Database>(path_, flags, read_only_ ? read_only_uri(path_) : "");
  sqlite3_busy_timeout(db_->handle(), 30000);
  if (!read_only_ && db_->read_only())
    throw StorageError(fmt::format("{}: read-only: a search writes to its database (check the file's permissions)", path_));

  if (create) {
    create_schema();
  } else {
    check_schema(!read_only_);
  }
  if (!read_only_) {
    // WAL is persistent in the file; synchronous and foreign keys are per connection.
    sqlite::Statement wal(*db_, "PRAGMA journal_mode = WAL");
    if (!wal.step() || wal.text(0) != "wal")
      throw StorageError(fmt::format("{}: cannot switch to the WAL journal (a network file system?)", path_));
    db_->exec("PRAGMA synchronous = FULL");
    // SQLite checkpoints in whichever connection's commit finds the journal over the limit: with
    // the default (1000 pages, 4 MB) that was a worker's result commit every batch or two (an lstm
    // state is 2.6 MB), blocking that worker 0.1-1.6 s while it copied pages and synced the file.
    // The search checkpoints after each batch instead (checkpoint()); this limit is the fallback.
    db_->exec("PRAGMA wal_autocheckpoint = 16384");
  }
  db_->exec("PRAGMA foreign_keys = ON");
}

void SqliteStorage::checkpoint() {
  if (read_only_) return;
  // PASSIVE: copies what no reader still needs, never waits for the workers, never blocks them;
  // one that cannot run now is done after the next batch (or by the fallback limit).
  sqlite3_exec(db_->handle(), "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, nullptr);
}

SqliteStorage::~SqliteStorage() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

void SqliteStorage::lock_search(SearchId search) {
  (void)search;  // one file, one lock: a file usually holds one search
  if (lock_fd_ >= 0) return;
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw StorageError(fmt::format("{}: cannot open it to lock it: {}", path_, std::strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    throw StorageError(fmt::format("{}: another nos-search run is working on this search (wait for it, or stop it)", path_));
  }
  lock_fd_ = fd;
}

void SqliteStorage::create_schema() {
  db_->exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  for (const std::string& statement : schema::create_statements(schema::Dialect::SQLite)) db_->exec(statement);
  sqlite::Statement(*db_, fmt::format("INSERT INTO nos_schema (application, version, created_at) VALUES (?, ?, {})", kNow))
      .bind(1, schema::kApplication)
      .bind(2, schema::kVersion)
      .run();
  tx.commit();
}

void SqliteStorage::check_schema(bool writable) {
  // A damaged file fails here (quick_check reads every page) before anything trusts its contents.
  {
    sqlite::Statement check(*db_, "PRAGMA quick_check(1)");
    if (!check.step() || check.text(0) != "ok")
      throw StorageError(fmt::format("{}: the database is corrupt (integrity check: {})", path_, check.text(0)));
  }
  sqlite::Statement table(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'nos_schema'");
  table.step();
  if (table.integer(0) == 0)
    throw StorageError(fmt::format("{}: not a NOS search database (an SQLite file without the nos_schema table)", path_));
  sqlite::Statement row(*db_, "SELECT application, version FROM nos_schema");
  if (!row.step() || row.text(0) != schema::kApplication)
    throw StorageError(fmt::format("{}: not a NOS search database (nos_schema does not name {})", path_, schema::kApplication));
  int version = static_cast<int>(row.integer(1));
  row.reset();
  if (version == schema::kVersion) return;
  if (version > schema::kVersion)
    throw StorageError(fmt::format("{}: schema version {} is newer than this NOS reads ({}): use a newer nos-search",
                                   path_, version, schema::kVersion));
  // Older: migrate step by step in one transaction, or refuse.
  if (!writable)
    throw StorageError(fmt::format("{}: schema version {} is older than {}; open it for writing once to migrate it",
                                   path_, version, schema::kVersion));
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  for (int from = version; from < schema::kVersion; ++from) {
    const schema::Migration* step = nullptr;
    for (const schema::Migration& m : schema::migrations())
      if (m.from == from) step = &m;
    if (!step)
      throw StorageError(fmt::format("{}: schema version {} cannot be migrated to {} (no migration from {})", path_,
                                     version, schema::kVersion, from));
    for (const std::string& statement : step->statements(schema::Dialect::SQLite)) db_->exec(statement);
  }
  sqlite::Statement(*db_, "UPDATE nos_schema SET version = ?").bind(1, schema::kVersion).run();
  tx.commit();
}

void SqliteStorage::check_writable() const {
  if (read_only_) throw StorageError(fmt::format("{}: opened read-only", path_));
}

const LeasePolicy& SqliteStorage::policy(SearchId search) {
  auto it = policies_.find(search);
  if (it != policies_.end()) return it->second;
  sqlite::Statement s(*db_, "SELECT lease_seconds, max_attempts, crash_reward FROM searches WHERE id = ?");
  s.bind(1, search);
  if (!s.step()) throw StorageError(fmt::format("{}: no search with id {}", path_, search));
  return policies_[search] = {s.real(0), static_cast<int>(s.integer(1)), s.real(2)};
}

// ---- Searches -----------------------------------------------------------------------------------

SearchId SqliteStorage::create_search(const std::string& name, const std::string& config_json, const LeasePolicy& p) {
  check_writable();
  if (p.lease_seconds <= 0 || p.max_attempts < 1)
    throw StorageError(fmt::format("{}: a lease needs lease_seconds > 0 and max_attempts >= 1", path_));
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  if (find_search(name)) throw StorageError(fmt::format("{}: a search named '{}' exists already", path_, name));
  sqlite::Statement(*db_, fmt::format("INSERT INTO searches (name, config, lease_seconds, max_attempts, crash_reward, "
                                      "created_at) VALUES (?, ?, ?, ?, ?, {})",
                                      kNow))
      .bind(1, name)
      .bind(2, config_json)
      .bind(3, p.lease_seconds)
      .bind(4, p.max_attempts)
      .bind(5, p.crash_reward)
      .run();
  SearchId id = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return id;
}

std::optional<SearchInfo> SqliteStorage::find_search(const std::string& name) {
  sqlite::Statement s(*db_, fmt::format("SELECT {} FROM searches WHERE name = ?", kSearchColumns));
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_search(s);
}

void SqliteStorage::update_config(SearchId search, const std::string& config_json) {
  check_writable();
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, "UPDATE searches SET config = ? WHERE id = ?").bind(1, config_json).bind(2, search).run();
  if (db_->changes() != 1) throw StorageError(fmt::format("{}: no search with id {}", path_, search));
  tx.commit();
}

std::vector<SearchInfo> SqliteStorage::searches() {
  sqlite::Statement s(*db_, fmt::format("SELECT {} FROM searches ORDER BY id", kSearchColumns));
  std::vector<SearchInfo> out;
  while (s.step()) out.push_back(read_search(s));
  return out;
}

// ---- Candidates and the queue -------------------------------------------------------------------

std::int64_t SqliteStorage::enqueue_batch(SearchId search, std::int64_t batch, const std::vector<NewCandidate>& batch_candidates) {
  check_writable();
  policy(search);  // the search must exist
  for (const NewCandidate& c : batch_candidates) {
    if (c.resolved) check_result(path_, *c.resolved);
    if (c.resolved && c.deferred)
      throw StorageError(fmt::format("{}: a candidate cannot be both resolved and deferred", path_));
  }
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement next(*db_, "SELECT COALESCE(MAX(idx) + 1, 0) FROM candidates WHERE search_id = ?");
  next.bind(1, search).step();
  const std::int64_t first = next.integer(0);
  sqlite::Statement insert(*db_, fmt::format("INSERT INTO candidates (search_id, idx, batch, tokens, rule, hash, "
                                             "fingerprint, strategy_data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, {})",
                                             kNow));
  sqlite::Statement queue(*db_, fmt::format("INSERT INTO tasks (search_id, candidate, stage, state, enqueued_at) "
                                            "VALUES (?, ?, 1, 'queued', {})",
                                            kNow));
  std::int64_t index = first;
  for (const NewCandidate& c : batch_candidates) {
    insert.bind(1, search).bind(2, index).bind(3, batch).bind(4, c.tokens).bind(5, c.rule).bind(6, c.hash);
    insert.bind(7, c.fingerprint).bind_blob(8, c.strategy_data).run();
    insert.reset();
    if (c.resolved) {
      insert_evaluation(search, index, 0, 0, true, *c.resolved, "", std::nullopt);
    } else if (!c.deferred) {
      queue.bind(1, search).bind(2, index).run();
      queue.reset();
    }
    ++index;
  }
  tx.commit();
  return first;
}

bool SqliteStorage::has_task(SearchId search, std::int64_t candidate, int stage) {
  sqlite::Statement s(*db_, "SELECT count(*) FROM tasks WHERE search_id = ? AND candidate = ? AND stage = ?");
  s.bind(1, search).bind(2, candidate).bind(3, stage).step();
  return s.integer(0) != 0;
}

std::int64_t SqliteStorage::enqueue_stage(SearchId search, std::int64_t candidate, int stage) {
  check_writable();
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement exists(*db_, "SELECT count(*) FROM candidates WHERE search_id = ? AND idx = ?");
  exists.bind(1, search).bind(2, candidate).step();
  if (exists.integer(0) == 0)
    throw StorageError(fmt::format("{}: search {} has no candidate {}", path_, search, candidate));
  sqlite::Statement dup(*db_, "SELECT count(*) FROM tasks WHERE search_id = ? AND candidate = ? AND stage = ?");
  dup.bind(1, search).bind(2, candidate).bind(3, stage).step();
  if (dup.integer(0) != 0)
    throw StorageError(fmt::format("{}: candidate {} already has a stage-{} task", path_, candidate, stage));
  sqlite::Statement(*db_, fmt::format("INSERT INTO tasks (search_id, candidate, stage, state, enqueued_at) "
                                      "VALUES (?, ?, ?, 'queued', {})",
                                      kNow))
      .bind(1, search)
      .bind(2, candidate)
      .bind(3, stage)
      .run();
  std::int64_t task = sqlite3_last_insert_rowid(db_->handle());
  tx.commit();
  return task;
}

std::optional<ClaimedTask> SqliteStorage::claim(SearchId search, const std::string& owner) {
  check_writable();
  const LeasePolicy& p = policy(search);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  requeue_expired_locked(search);
  sqlite::Statement first(*db_, "SELECT id, candidate, stage FROM tasks WHERE search_id = ? AND state = 'queued' "
                                "ORDER BY id LIMIT 1");
  if (!first.bind(1, search).step()) {
    tx.commit();  // keeps what requeue_expired_locked did
    return std::nullopt;
  }
  ClaimedTask claimed;
  Lease& lease = claimed.lease;
  lease.search = search;
  lease.task = first.integer(0);
  lease.candidate = first.integer(1);
  lease.stage = static_cast<int>(first.integer(2));
  lease.owner = owner;
  sqlite::Statement(*db_, fmt::format("UPDATE tasks SET state = 'running', owner = ?, attempt = attempt + 1, "
                                      "lease_expires = {0} + ?, heartbeat_at = {0}, claimed_at = {0} WHERE id = ?",
                                      kNow))
      .bind(1, owner)
      .bind(2, p.lease_seconds)
      .bind(3, lease.task)
      .run();
  sqlite::Statement read(*db_, "SELECT attempt, lease_expires, claimed_at FROM tasks WHERE id = ?");
  read.bind(1, lease.task).step();
  lease.attempt = read.integer(0);
  lease.expires_at = read.real(1);
  lease.claimed_at = read.real(2);
  sqlite::Statement c(*db_, fmt::format("SELECT {} FROM candidates WHERE search_id = ? AND idx = ?", kCandidateColumns));
  c.bind(1, search).bind(2, lease.candidate).step();
  claimed.candidate = read_candidate(c);
  tx.commit();
  return claimed;
}

bool SqliteStorage::heartbeat(Lease& lease) {
  check_writable();
  const LeasePolicy& p = policy(lease.search);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, fmt::format("UPDATE tasks SET lease_expires = {0} + ?, heartbeat_at = {0} "
                                      "WHERE id = ? AND owner = ? AND attempt = ? AND state = 'running'",
                                      kNow))
      .bind(1, p.lease_seconds)
      .bind(2, lease.task)
      .bind(3, lease.owner)
      .bind(4, lease.attempt)
      .run();
  if (db_->changes() != 1) return false;
  sqlite::Statement read(*db_, "SELECT lease_expires FROM tasks WHERE id = ?");
  read.bind(1, lease.task).step();
  lease.expires_at = read.real(0);
  tx.commit();
  return true;
}

bool SqliteStorage::finish(const Lease& lease, const EvaluationResult& result) {
  check_writable();
  check_result(path_, result);
  if (result.stage != lease.stage)
    throw StorageError(fmt::format("{}: a stage-{} result for a stage-{} lease", path_, result.stage, lease.stage));
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  // The fence: only the lease's current owner and attempt may end a running task. A lease that has
  // expired but was not yet taken over still counts: no newer attempt exists to protect.
  sqlite::Statement(*db_, fmt::format("UPDATE tasks SET state = 'finished', finished_at = {}, lease_expires = NULL "
                                      "WHERE id = ? AND owner = ? AND attempt = ? AND state = 'running'",
                                      kNow))
      .bind(1, lease.task)
      .bind(2, lease.owner)
      .bind(3, lease.attempt)
      .run();
  bool accepted = db_->changes() == 1;
  insert_evaluation(lease.search, lease.candidate, lease.task, lease.attempt, accepted, result, lease.owner,
                    lease.claimed_at);
  tx.commit();
  return accepted;
}

void SqliteStorage::store_result(SearchId search, std::int64_t candidate, const EvaluationResult& result) {
  check_writable();
  check_result(path_, result);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement exists(*db_, "SELECT count(*) FROM candidates WHERE search_id = ? AND idx = ?");
  exists.bind(1, search).bind(2, candidate).step();
  if (exists.integer(0) == 0)
    throw StorageError(fmt::format("{}: search {} has no candidate {}", path_, search, candidate));
  sqlite::Statement task(*db_, "SELECT count(*) FROM tasks WHERE search_id = ? AND candidate = ? AND stage = ?");
  task.bind(1, search).bind(2, candidate).bind(3, result.stage).step();
  if (task.integer(0) != 0)
    throw StorageError(fmt::format("{}: candidate {} has a stage-{} task: its result comes from it", path_, candidate,
                                   result.stage));
  sqlite::Statement done(*db_, "SELECT count(*) FROM evaluations WHERE search_id = ? AND candidate = ? AND stage = ? "
                               "AND accepted = 1");
  done.bind(1, search).bind(2, candidate).bind(3, result.stage).step();
  if (done.integer(0) != 0)
    throw StorageError(fmt::format("{}: candidate {} has a stage-{} result already", path_, candidate, result.stage));
  insert_evaluation(search, candidate, 0, 0, true, result, "", std::nullopt);
  tx.commit();
}

void SqliteStorage::release(const Lease& lease) {
  check_writable();
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, "UPDATE tasks SET state = 'queued', owner = NULL, lease_expires = NULL "
                          "WHERE id = ? AND owner = ? AND attempt = ? AND state = 'running'")
      .bind(1, lease.task)
      .bind(2, lease.owner)
      .bind(3, lease.attempt)
      .run();
  tx.commit();
}

void SqliteStorage::abandon(const Lease& lease, const std::string& why) {
  check_writable();
  policy(lease.search);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement current(*db_, "SELECT count(*) FROM tasks WHERE id = ? AND owner = ? AND attempt = ? AND state = 'running'");
  current.bind(1, lease.task).bind(2, lease.owner).bind(3, lease.attempt).step();
  if (current.integer(0) == 1)
    fail_attempt_locked(lease.search, lease.task, lease.candidate, lease.stage, lease.attempt, lease.owner,
                        lease.claimed_at, why);
  tx.commit();
}

int SqliteStorage::abandon_owner(SearchId search, const std::string& owner, const std::string& why) {
  check_writable();
  policy(search);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  std::vector<Lease> held;
  for (const Lease& lease : running(search))
    if (lease.owner == owner) held.push_back(lease);
  for (const Lease& l : held)
    fail_attempt_locked(search, l.task, l.candidate, l.stage, l.attempt, l.owner, l.claimed_at, why);
  tx.commit();
  return static_cast<int>(held.size());
}

std::vector<Lease> SqliteStorage::running(SearchId search) {
  sqlite::Statement s(*db_, "SELECT id, candidate, stage, attempt, owner, claimed_at, lease_expires FROM tasks "
                            "WHERE search_id = ? AND state = 'running' ORDER BY claimed_at, id");
  s.bind(1, search);
  std::vector<Lease> out;
  while (s.step())
    out.push_back({search, s.integer(0), s.integer(1), static_cast<int>(s.integer(2)), s.integer(3), s.text(4),
                   s.real(5), s.real(6)});
  return out;
}

int SqliteStorage::requeue_expired(SearchId search) {
  check_writable();
  policy(search);
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  int n = requeue_expired_locked(search);
  tx.commit();
  return n;
}

int SqliteStorage::requeue_expired_locked(SearchId search) {
  struct Expired {
    std::int64_t task, candidate;
    int stage;
    std::int64_t attempt;
    std::string owner;
    double claimed_at;
  };
  std::vector<Expired> expired;
  {
    sqlite::Statement s(*db_, fmt::format("SELECT id, candidate, stage, attempt, owner, claimed_at FROM tasks "
                                          "WHERE search_id = ? AND state = 'running' AND lease_expires < {} ORDER BY id",
                                          kNow));
    s.bind(1, search);
    while (s.step())
      expired.push_back({s.integer(0), s.integer(1), static_cast<int>(s.integer(2)), s.integer(3), s.text(4), s.real(5)});
  }
  for (const Expired& e : expired)
    fail_attempt_locked(search, e.task, e.candidate, e.stage, e.attempt, e.owner, e.claimed_at,
                        fmt::format("the lease of {} (attempt {}) expired", e.owner, e.attempt));
  return static_cast<int>(expired.size());
}

void SqliteStorage::fail_attempt_locked(SearchId search, std::int64_t task, std::int64_t candidate, int stage,
                                        std::int64_t attempt, const std::string& owner, double claimed_at,
                                        const std::string& why) {
  const LeasePolicy& p = policy(search);
  sqlite::Statement failures(*db_, "SELECT failures FROM tasks WHERE id = ?");
  failures.bind(1, task).step();
  const bool last = failures.integer(0) + 1 >= p.max_attempts;
  EvaluationResult crashed;
  crashed.stage = stage;
  crashed.status = "crashed";
  crashed.detail = why;
  if (last) {
    crashed.reward = p.crash_reward;
    sqlite::Statement(*db_, fmt::format("UPDATE tasks SET state = 'crashed', failures = failures + 1, "
                                        "lease_expires = NULL, finished_at = {} WHERE id = ?",
                                        kNow))
        .bind(1, task)
        .run();
  } else {
    sqlite::Statement(*db_, "UPDATE tasks SET state = 'queued', failures = failures + 1, owner = NULL, "
                            "lease_expires = NULL WHERE id = ?")
        .bind(1, task)
        .run();
  }
  // The lost attempt is kept; the last one is the candidate's accepted (crashed) result.
  insert_evaluation(search, candidate, task, attempt, last, crashed, owner, claimed_at);
}

void SqliteStorage::insert_evaluation(SearchId search, std::int64_t candidate, std::int64_t task, std::int64_t attempt,
                                      bool accepted, const EvaluationResult& r, const std::string& worker,
                                      std::optional<double> started_at) {
  sqlite::Statement s(*db_, fmt::format("INSERT INTO evaluations (search_id, candidate, stage, task, attempt, accepted, "
                                        "status, source, reused_from, detail, lr, metric, reward, metrics, curves, "
                                        "timings, worker, started_at, finished_at) VALUES "
                                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, {0}), {0})",
                                        kNow));
  s.bind(1, search).bind(2, candidate).bind(3, r.stage);
  if (task) s.bind(4, task); else s.bind_null(4);
  s.bind(5, attempt).bind(6, accepted ? 1 : 0).bind(7, r.status).bind(8, r.source).bind(9, r.reused_from);
  s.bind(10, r.detail).bind(11, r.lr).bind(12, r.metric).bind(13, r.reward);
  s.bind(14, r.metrics_json).bind(15, r.curves_json).bind(16, r.timings_json).bind(17, worker).bind(18, started_at);
  s.run();
}

// ---- Strategy state ---------------------------------------------------------------------------

void SqliteStorage::save_strategy_state(SearchId search, std::int64_t batch, const std::string& bytes,
                                        const std::string& statistics_json) {
  check_writable();
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, fmt::format("INSERT INTO strategy_states (search_id, batch, state, statistics, saved_at) "
                                      "VALUES (?, ?, ?, ?, {}) ON CONFLICT (search_id, batch) DO UPDATE SET "
                                      "state = excluded.state, statistics = excluded.statistics, "
                                      "saved_at = excluded.saved_at",
                                      kNow))
      .bind(1, search)
      .bind(2, batch)
      .bind_blob(3, bytes)
      .bind(4, statistics_json)
      .run();
  tx.commit();
}

std::optional<StrategyState> SqliteStorage::latest_strategy_state(SearchId search) {
  sqlite::Statement s(*db_, "SELECT batch, state FROM strategy_states WHERE search_id = ? ORDER BY batch DESC LIMIT 1");
  if (!s.bind(1, search).step()) return std::nullopt;
  return StrategyState{s.integer(0), s.blob(1)};
}

void SqliteStorage::drop_strategy_states_before(SearchId search, std::int64_t batch) {
  check_writable();
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, "UPDATE strategy_states SET state = ? WHERE search_id = ? AND batch < ? AND length(state) > 0")
      .bind_blob(1, std::string())
      .bind(2, search)
      .bind(3, batch)
      .run();
  tx.commit();
}

std::vector<BatchRecord> SqliteStorage::batch_records(SearchId search) {
  sqlite::Statement s(*db_, "SELECT batch, statistics, saved_at, length(state) FROM strategy_states WHERE search_id = ? "
                            "ORDER BY batch");
  s.bind(1, search);
  std::vector<BatchRecord> out;
  while (s.step()) out.push_back({s.integer(0), s.text(1), s.real(2), s.integer(3)});
  return out;
}

// ---- Artifacts --------------------------------------------------------------------------------

void SqliteStorage::put_artifact(SearchId search, const std::string& key, const std::string& json) {
  check_writable();
  policy(search);  // the search must exist
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES (?, ?, ?, {}) "
                                      "ON CONFLICT (search_id, key) DO UPDATE SET value = excluded.value, "
                                      "saved_at = excluded.saved_at",
                                      kNow))
      .bind(1, search)
      .bind(2, key)
      .bind(3, json)
      .run();
  tx.commit();
}

bool SqliteStorage::add_artifact(SearchId search, const std::string& key, const std::string& json) {
  check_writable();
  policy(search);  // the search must exist
  sqlite::Transaction tx(*db_, sqlite::Transaction::Write);
  sqlite::Statement(*db_, fmt::format("INSERT INTO artifacts (search_id, key, value, saved_at) VALUES (?, ?, ?, {}) "
                                      "ON CONFLICT (search_id, key) DO NOTHING",
                                      kNow))
      .bind(1, search)
      .bind(2, key)
      .bind(3, json)
      .run();
  bool added = db_->changes() == 1;
  tx.commit();
  return added;
}

std::optional<std::string> SqliteStorage::artifact(SearchId search, const std::string& key) {
  sqlite::Statement s(*db_, "SELECT value FROM artifacts WHERE search_id = ? AND key = ?");
  if (!s.bind(1, search).bind(2, key).step()) return std::nullopt;
  return s.text(0);
}

std::vector<std::string> SqliteStorage::artifact_keys(SearchId search) {
  sqlite::Statement s(*db_, "SELECT key FROM artifacts WHERE search_id = ? ORDER BY key");
  s.bind(1, search);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

// ---- Reading ----------------------------------------------------------------------------------

std::optional<Evaluation> SqliteStorage::lookup(SearchId search, const char* column, const std::string& value, int stage) {
  sqlite::Statement s(*db_, fmt::format("SELECT {} FROM evaluations e JOIN candidates c "
                                        "ON c.search_id = e.search_id AND c.idx = e.candidate "
                                        "WHERE c.search_id = ? AND c.{} = ? AND e.stage = ? AND e.accepted = 1 "
                                        "AND e.status <> 'crashed' ORDER BY c.idx LIMIT 1",
                                        kEvaluationColumns, column));
  if (!s.bind(1, search).bind(2, value).bind(3, stage).step()) return std::nullopt;
  return read_evaluation(s);
}

std::optional<Evaluation> SqliteStorage::lookup_by_hash(SearchId search, const std::string& hash, int stage) {
  return lookup(search, "hash", hash, stage);
}

std::optional<Evaluation> SqliteStorage::lookup_by_fingerprint(SearchId search, const std::string& fingerprint, int stage) {
  if (fingerprint.empty()) return std::nullopt;  // '' means "not computed", never a match
  return lookup(search, "fingerprint", fingerprint, stage);
}

std::vector<Candidate> SqliteStorage::candidates(SearchId search, std::int64_t batch) {
  // One batch reads candidates_by_batch: `(? < 0 OR batch = ?)` would scan the whole search.
  sqlite::Statement s(*db_, fmt::format("SELECT {} FROM candidates WHERE search_id = ?{} ORDER BY idx", kCandidateColumns,
                                        batch < 0 ? "" : " AND batch = ?"));
  s.bind(1, search);
  if (batch >= 0) s.bind(2, batch);
  std::vector<Candidate> out;
  while (s.step()) out.push_back(read_candidate(s));
  return out;
}

std::vector<Evaluation> SqliteStorage::evaluations(SearchId search, std::int64_t candidate) {
  // One candidate reads evaluations_by_candidate: `(? < 0 OR e.candidate = ?)` would scan the search.
  sqlite::Statement s(*db_, fmt::format("SELECT {} FROM evaluations e WHERE e.search_id = ?{} ORDER BY e.id",
                                        kEvaluationColumns, candidate < 0 ? "" : " AND e.candidate = ?"));
  s.bind(1, search);
  if (candidate >= 0) s.bind(2, candidate);
  std::vector<Evaluation> out;
  while (s.step()) out.push_back(read_evaluation(s));
  return out;
}

std::vector<Evaluation> SqliteStorage::evaluations_of_batch(SearchId search, std::int64_t batch) {
  sqlite::Statement s(*db_, queries::evaluations_of_batch(schema::Dialect::SQLite));
  s.bind(1, search).bind(2, batch);
  std::vector<Evaluation> out;
  while (s.step()) out.push_back(read_evaluation(s));
  return out;
}

TaskCounts SqliteStorage::counts(SearchId search, std::int64_t batch) {
  TaskCounts counts;
  sqlite::Transaction tx(*db_, sqlite::Transaction::Read);  // one snapshot for both queries
  sqlite::Statement s(*db_, queries::task_counts(schema::Dialect::SQLite, batch >= 0));
  s.bind(1, search);
  if (batch >= 0) s.bind(2, batch);
  while (s.step()) {
    std::string state = s.text(0);
    std::int64_t n = s.integer(1);
    if (state == "queued") counts.queued = n;
    else if (state == "running") counts.running = n;
    else if (state == "finished") counts.finished = n;
    else if (state == "crashed") counts.crashed = n;
  }
  // Results stored with their candidate (no task) count as finished.
  sqlite::Statement resolved(*db_, queries::resolved_count(schema::Dialect::SQLite, batch >= 0));
  resolved.bind(1, search);
  if (batch >= 0) resolved.bind(2, batch);
  resolved.step();
  counts.finished += resolved.integer(0);
  tx.commit();
  return counts;
}

std::vector<RankedResult> SqliteStorage::top(SearchId search, int limit) {
  sqlite::Statement s(*db_, queries::top(schema::Dialect::SQLite, limit));
  s.bind(1, search);
  std::vector<RankedResult> out;
  while (s.step()) out.push_back({read_candidate(s, queries::kEvaluationColumnCount), read_evaluation(s)});
  return out;
}

}  // namespace nos::search
