#include "controller/search/storage/sqlite/sqlite_db.h"

#include <fmt/format.h>

#include "controller/search/storage.h"

namespace nos::search::sqlite {

Database::Database(std::string path, int flags, const std::string& uri) : path_(std::move(path)) {
  const std::string& name = uri.empty() ? path_ : uri;
  if (!uri.empty()) flags |= SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StorageError(fmt::format("{}: cannot open: {}", path_, message));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::fail(int rc, std::string_view what) const {
  int primary = rc & 0xff;
  std::string message = sqlite3_errmsg(db_);
  if (primary == SQLITE_NOTADB)
    throw StorageError(fmt::format("{}: not a NOS search database (not an SQLite file: {})", path_, message));
  if (primary == SQLITE_CORRUPT)
    throw StorageError(fmt::format("{}: the database is corrupt ({}: {})", path_, what, message));
  if (primary == SQLITE_READONLY)
    throw StorageError(fmt::format("{}: cannot write (read-only): {}", path_, message));
  throw StorageError(fmt::format("{}: {}: {}", path_, what, message));
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, text.substr(0, 60));
}

std::int64_t Database::changes() const { return sqlite3_changes64(db_); }

bool Database::read_only() const { return sqlite3_db_readonly(db_, "main") == 1; }

Statement::Statement(Database& db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, fmt::format("preparing '{}'", sql.substr(0, 60)));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

namespace {
void check_bind(Database& db, int rc) {
  if (rc != SQLITE_OK) db.fail(rc, "binding a value");
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(db_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, double value) {
  check_bind(db_, sqlite3_bind_double(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  check_bind(db_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}
Statement& Statement::bind(int index, const std::optional<double>& value) {
  return value ? bind(index, *value) : bind_null(index);
}
Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob, not NULL, for empty bytes (the column is NOT NULL).
  check_bind(db_, bytes.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                                : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::bind_null(int index) {
  check_bind(db_, sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, fmt::format("running '{}'", std::string_view(sqlite3_sql(stmt_)).substr(0, 60)));
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column)) : std::string();
}
std::string Statement::blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, column)) : std::string();
}
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::optional<double> Statement::optional_real(int column) const {
  return is_null(column) ? std::nullopt : std::optional<double>(real(column));
}
std::optional<std::int64_t> Statement::optional_integer(int column) const {
  return is_null(column) ? std::nullopt : std::optional<std::int64_t>(integer(column));
}

}  // namespace nos::search::sqlite
