#include "controller/search/storage/postgres/postgres_storage.h"

#include <optional>
#include <set>

#include <fmt/format.h>

#include "controller/search/storage/postgres/pg_db.h"
#include "controller/search/storage/postgres/pg_reconnect.h"

namespace nos::search {
namespace {

using storage::RowLock;
using storage::TxKind;

// Held while a connection inspects, creates or migrates the schema, so that two processes opening
// an empty database at once do not both create it ('NOSS', as SQLite's application_id).
constexpr std::int64_t kSchemaLock = 0x4E4F5353;
// pg_try_advisory_lock(kRunLock, search id): one `nos-search run` per search ('NOSR'). The two-key
// form lives apart from kSchemaLock's one-key form.
constexpr int kRunLock = 0x4E4F5352;

class PostgresRows final : public storage::Rows {
 public:
  explicit PostgresRows(pg::Result result) : r_(std::move(result)) {}
  int size() const override { return r_.rows(); }
  std::int64_t affected() const override { return r_.affected(); }
  bool is_null(int row, int column) const override { return r_.is_null(row, column); }
  std::int64_t integer(int row, int column) const override { return r_.integer(row, column); }
  double real(int row, int column) const override { return r_.real(row, column); }
  std::string text(int row, int column) const override { return r_.text(row, column); }
  std::string bytes(int row, int column) const override { return r_.bytes(row, column); }

 private:
  pg::Result r_;
};

class PostgresDriver final : public storage::Driver {
 public:
  PostgresDriver(const std::string& url, OpenMode mode);

  const std::string& location() const override { return location_; }
  schema::Dialect dialect() const override { return schema::Dialect::PostgreSQL; }
  bool read_only() const override { return read_only_; }
  // The server's clock in unix seconds. statement_timestamp() is when the statement arrived, like
  // SQLite's 'now' (fixed within one statement, later in each statement of a transaction); now()
  // would be the transaction's start.
  const char* now() const override { return "extract(epoch from statement_timestamp())::double precision"; }
  const char* lock(RowLock kind) const override {
    switch (kind) {
      case RowLock::Update: return " FOR UPDATE";
      case RowLock::UpdateSkipLocked: return " FOR UPDATE SKIP LOCKED";
      case RowLock::NoKeyUpdate: return " FOR NO KEY UPDATE";
    }
    return "";
  }

  std::unique_ptr<storage::Rows> exec(std::string_view sql, const storage::Params& params) override;
  // Read committed (every statement sees the latest commits, rows are locked explicitly), or a
  // snapshot (repeatable read: several reads that agree).
  void begin(TxKind kind) override { db_.exec(kind == TxKind::Write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ"); }
  void commit() override { db_.exec("COMMIT"); }
  void rollback() noexcept override {
    try {
      db_.exec("ROLLBACK");
    } catch (const StorageError&) {
      // The connection is gone: the server rolled the transaction back already.
    }
  }
  bool unique_violation(const StorageError& error) const override {
    auto* e = dynamic_cast<const pg::Error*>(&error);
    return e && e->sqlstate() == pg::kUniqueViolation;
  }
  void run(const std::function<void()>& operation) override;
  bool retried() const override { return retry_; }

  void lock_schema() override { db_.exec("SELECT pg_advisory_xact_lock($1)", pg::Params().add(kSchemaLock)); }
  bool has_table(std::string_view name) override {
    return db_.exec("SELECT to_regclass($1) IS NOT NULL", pg::Params().add(name)).text(0, 0) == "t";
  }
  bool empty() override {
    return db_.exec("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
               .integer(0, 0) == 0;
  }
  std::string foreign() const override { return "a PostgreSQL database with tables but without nos_schema"; }

  void notify(SearchId search) override {
    // Delivered at commit, to every session that LISTENs on the search's channel.
    db_.exec(fmt::format("NOTIFY nos_search_{}", search));
  }
  bool wait_for_work(SearchId search, double seconds) override;
  bool notifies() const override { return true; }
  // pg_try_advisory_lock on this connection; taken again after a reconnect (StorageError when
  // another run took it meanwhile).
  void lock_search(SearchId search) override;
  void lose_next_commit_acknowledgement() { db_.lose_next_commit_acknowledgement(); }

 private:
  // The session's state: settings, LISTENs, the run lock. At the start and after every reconnect.
  void start_session();

  std::string location_;  // the URL, password masked
  bool read_only_;
  pg::Connection db_;
  pg::ReconnectPolicy reconnect_policy_;
  int depth_ = 0;       // operations in progress (one calls another): only the outermost retries
  bool retry_ = false;  // the operation runs again after a reconnect
  std::set<SearchId> listening_;  // channels this connection LISTENs to
  std::optional<SearchId> locked_search_;
  std::string locked_name_;
};

// The first connection is not retried: a wrong URL or a server that is not there is an error now.
PostgresDriver::PostgresDriver(const std::string& url, OpenMode mode)
    : location_(pg::mask_password(url)),
      read_only_(mode == OpenMode::ReadOnly),
      db_(url),
      reconnect_policy_(pg::ReconnectPolicy::from_environment()) {
  start_session();
}

void PostgresDriver::start_session() {
  db_.exec("SET client_min_messages = warning");
  // Read only: the server refuses every write of this session, whatever the class lets through.
  if (read_only_) db_.exec("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
  for (SearchId search : listening_) db_.exec(fmt::format("LISTEN nos_search_{}", search));
  if (locked_search_) {
    pg::Result r = db_.exec("SELECT pg_try_advisory_lock($1, $2)", pg::Params().add(kRunLock).add(*locked_search_));
    if (r.text(0, 0) != "t")
      throw StorageError(fmt::format("{}: another nos-search run took search '{}' while this one was disconnected; "
                                     "this run stops (the other one goes on)",
                                     location_, locked_name_));
  }
}

std::unique_ptr<storage::Rows> PostgresDriver::exec(std::string_view sql, const storage::Params& params) {
  pg::Params values;
  for (const storage::Value& v : params.values()) {
    if (auto* i = std::get_if<std::int64_t>(&v)) values.add(*i);
    else if (auto* d = std::get_if<double>(&v)) values.add(*d);
    else if (auto* t = std::get_if<std::string_view>(&v)) values.add(*t);
    else if (auto* b = std::get_if<storage::Bytes>(&v)) values.add_bytes(b->data);
    else values.add_null();
  }
  return std::make_unique<PostgresRows>(db_.exec(sql, values));
}

void PostgresDriver::run(const std::function<void()>& operation) {
  if (depth_ > 0) return operation();  // inside another operation: the outermost one retries all of it
  struct Depth {
    int& depth;
    explicit Depth(int& d) : depth(d) { ++depth; }
    ~Depth() { --depth; }
  } outermost(depth_);
  retry_ = false;
  while (true) {
    try {
      return operation();
    } catch (const pg::Error& e) {
      if (!e.connection_lost()) throw;
      // The transaction died with the session: reconnect, then run the whole operation again. Its
      // commit may have happened before the acknowledgement was lost: the operations that are not
      // idempotent by themselves look at retried() to recognize their own work (finish,
      // store_result, enqueue_batch, enqueue_stage, create_search, claim).
      pg::reconnect(db_, location_, e.reason().empty() ? e.what() : e.reason(), reconnect_policy_,
                    [this] { start_session(); });
      retry_ = true;
    }
  }
}

bool PostgresDriver::wait_for_work(SearchId search, double seconds) {
  bool woken = false;
  run([&] {
    // Notifications sent while the connection was away are lost: after a reconnect, look for work.
    if (retry_) {
      woken = true;
      return;
    }
    if (listening_.insert(search).second) db_.exec(fmt::format("LISTEN nos_search_{}", search));
    woken = db_.wait_for_notification(seconds);
  });
  return woken;
}

void PostgresDriver::lock_search(SearchId search) {
  run([&] {
    std::string name = fmt::format("{}", search);
    pg::Result found = db_.exec("SELECT name FROM searches WHERE id = $1", pg::Params().add(search));
    if (!found.empty()) name = found.text(0, 0);
    // A session-level lock: held while this connection lives, gone with it when the process dies.
    pg::Result r = db_.exec("SELECT pg_try_advisory_lock($1, $2)", pg::Params().add(kRunLock).add(search));
    if (r.text(0, 0) != "t")
      throw StorageError(fmt::format("{}: another nos-search run is working on search '{}' (wait for it, or stop it)",
                                     location_, name));
    locked_search_ = search;
    locked_name_ = name;
  });
}

}  // namespace

PostgresStorage::PostgresStorage(const std::string& url, OpenMode mode)
    : SqlStorage(std::make_unique<PostgresDriver>(url, mode), mode) {}

void PostgresStorage::lose_next_commit_acknowledgement_for_testing() {
  static_cast<PostgresDriver&>(driver()).lose_next_commit_acknowledgement();
}

}  // namespace nos::search
