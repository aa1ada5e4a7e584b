#include "controller/search/storage/sqlite/sqlite_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "controller/search/storage/sqlite/sqlite_db.h"
#include "dsl/input_file.h"

namespace nos::search {
namespace {

using storage::Params;
using storage::RowLock;
using storage::TxKind;

// 'NOSS': PRAGMA application_id, so `file` and sqlite tools can tell a NOS search at a glance.
constexpr int kApplicationId = 0x4E4F5353;

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

// One statement's rows, read while it stepped (the statement is finalized at once).
class SqliteRows final : public storage::Rows {
 public:
  struct Cell {
    int type = SQLITE_NULL;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;  // TEXT or BLOB
  };
  std::vector<std::vector<Cell>> rows;
  std::int64_t changed = 0;

  int size() const override { return static_cast<int>(rows.size()); }
  std::int64_t affected() const override { return changed; }
  bool is_null(int row, int column) const override { return at(row, column).type == SQLITE_NULL; }
  std::int64_t integer(int row, int column) const override {
    const Cell& c = at(row, column);
    return c.type == SQLITE_FLOAT ? static_cast<std::int64_t>(c.real) : c.integer;
  }
  double real(int row, int column) const override {
    const Cell& c = at(row, column);
    return c.type == SQLITE_INTEGER ? static_cast<double>(c.integer) : c.real;
  }
  std::string text(int row, int column) const override {
    const Cell& c = at(row, column);
    if (c.type == SQLITE_INTEGER) return std::to_string(c.integer);
    if (c.type == SQLITE_FLOAT) return fmt::format("{}", c.real);
    return c.text;
  }
  std::string bytes(int row, int column) const override { return at(row, column).text; }

 private:
  const Cell& at(int row, int column) const { return rows.at(row).at(column); }
};

// The SQLite driver: one file, WAL journal, a busy timeout, every write transaction BEGIN
// IMMEDIATE, synchronous=FULL; the run lock is an flock() on the file.
class SqliteDriver final : public storage::Driver {
 public:
  SqliteDriver(std::string path, OpenMode mode);
  ~SqliteDriver() override;

  const std::string& location() const override { return path_; }
  schema::Dialect dialect() const override { return schema::Dialect::SQLite; }
  bool read_only() const override { return read_only_; }
  // The database clock in unix seconds with sub-second precision (SQLite 3.40 has no 'subsec').
  const char* now() const override { return "((julianday('now') - 2440587.5) * 86400.0)"; }
  const char* lock(RowLock) const override { return ""; }  // a write transaction holds the file

  std::unique_ptr<storage::Rows> exec(std::string_view sql, const Params& params) override;
  void begin(TxKind kind) override { db_->exec(kind == TxKind::Write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  void commit() override { db_->exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr); }
  bool unique_violation(const StorageError&) const override { return false; }  // BEGIN IMMEDIATE serializes writers

  bool has_table(std::string_view name) override {
    return exec("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1", Params().add(name))
               ->integer(0, 0) != 0;
  }
  bool empty() override { return created_; }
  std::string foreign() const override { return "an SQLite file without the nos_schema table"; }
  void creating() override { db_->exec(fmt::format("PRAGMA application_id = {}", kApplicationId)); }
  void opened() override;

  bool wait_for_work(SearchId, double seconds) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return false;
  }
  void lock_search(SearchId search) override;
  void checkpoint() override;

 private:
  std::string path_;
  bool read_only_;
  bool created_ = false;         // this driver made the file: it gets the schema
  bool remove_on_close_ = false; // ... and removes it again unless the storage opened
  std::unique_ptr<sqlite::Database> db_;
  int lock_fd_ = -1;  // the file, flock()ed by lock_search
};

}  // namespace

SqliteDriver::SqliteDriver(std::string path, OpenMode mode)
    : path_(std::move(path)), read_only_(mode == OpenMode::ReadOnly) {
  // Before anything opens it: SQLite would wait for a writer on a FIFO forever, and say only
  // "disk I/O error" for a device.
  if (std::string kind = dsl::non_regular_kind(path_); !kind.empty())
    throw StorageError(fmt::format("{}: is {}, not a search database", path_, kind));
  std::error_code ec;
  bool exists = std::filesystem::exists(path_, ec);
  bool empty = !exists || std::filesystem::file_size(path_, ec) == 0;
  switch (mode) {
    case OpenMode::Create:
      create_exclusively(path_);  // even an empty file is refused: the path must not exist yet
      created_ = remove_on_close_ = true;
      break;
    case OpenMode::OpenOrCreate: created_ = empty; break;
    case OpenMode::Open:
    case OpenMode::ReadOnly:
      if (!exists) throw StorageError(fmt::format("{}: no such search database", path_));
      if (empty) throw StorageError(fmt::format("{}: not a NOS search database (the file is empty)", path_));
      break;
  }
  try {
    int flags = read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (created_ ? SQLITE_OPEN_CREATE : 0);
    db_ = std::make_unique<sqlite::Database>(path_, flags, read_only_ ? read_only_uri(path_) : "");
    sqlite3_busy_timeout(db_->handle(), 30000);
    if (!read_only_ && db_->read_only())
      throw StorageError(
          fmt::format("{}: read-only: a search writes to its database (check the file's permissions)", path_));
    if (!created_) {
      // A damaged file fails here (quick_check reads every page) before anything trusts its contents.
      sqlite::Statement check(*db_, "PRAGMA quick_check(1)");
      if (!check.step() || check.text(0) != "ok")
        throw StorageError(fmt::format("{}: the database is corrupt (integrity check: {})", path_, check.text(0)));
    }
  } catch (...) {
    db_.reset();
    if (remove_on_close_) std::filesystem::remove(path_, ec);
    throw;
  }
}

SqliteDriver::~SqliteDriver() {
  if (lock_fd_ >= 0) close(lock_fd_);
  db_.reset();
  std::error_code ec;
  if (remove_on_close_) std::filesystem::remove(path_, ec);  // a creation that failed leaves nothing behind
}

void SqliteDriver::opened() {
  remove_on_close_ = false;
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

std::unique_ptr<storage::Rows> SqliteDriver::exec(std::string_view sql, const Params& params) {
  // $n -> ?n: the policy writes PostgreSQL's parameters, SQLite reads ?n alike.
  std::string text(sql);
  for (size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '$' && std::isdigit(static_cast<unsigned char>(text[i + 1]))) text[i] = '?';
  sqlite::Statement s(*db_, text);
  int index = 1;
  for (const storage::Value& v : params.values()) {
    if (auto* i = std::get_if<std::int64_t>(&v)) s.bind(index, *i);
    else if (auto* d = std::get_if<double>(&v)) s.bind(index, *d);
    else if (auto* t = std::get_if<std::string_view>(&v)) s.bind(index, *t);
    else if (auto* b = std::get_if<storage::Bytes>(&v)) s.bind_blob(index, b->data);
    else s.bind_null(index);
    ++index;
  }
  auto rows = std::make_unique<SqliteRows>();
  while (s.step()) {
    std::vector<SqliteRows::Cell>& row = rows->rows.emplace_back(s.columns());
    for (int c = 0; c < s.columns(); ++c) {
      SqliteRows::Cell& cell = row[c];
      cell.type = s.type(c);
      if (cell.type == SQLITE_INTEGER) cell.integer = s.integer(c);
      else if (cell.type == SQLITE_FLOAT) cell.real = s.real(c);
      else if (cell.type == SQLITE_TEXT) cell.text = s.text(c);
      else if (cell.type == SQLITE_BLOB) cell.text = s.blob(c);
    }
  }
  rows->changed = db_->changes();
  return rows;
}

void SqliteDriver::checkpoint() {
  if (read_only_) return;
  // PASSIVE: copies what no reader still needs, never waits for the workers, never blocks them;
  // one that cannot run now is done after the next batch (or by the fallback limit).
  sqlite3_exec(db_->handle(), "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, nullptr);
}

void SqliteDriver::lock_search(SearchId) {  // one file, one lock: a file usually holds one search
  if (lock_fd_ >= 0) return;
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw StorageError(fmt::format("{}: cannot open it to lock it: {}", path_, std::strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    throw StorageError(fmt::format("{}: another nos-search run is working on this search (wait for it, or stop it)", path_));
  }
  lock_fd_ = fd;
}

SqliteStorage::SqliteStorage(const std::string& path, OpenMode mode)
    : SqlStorage(std::make_unique<SqliteDriver>(path, mode), mode) {}

}  // namespace nos::search
