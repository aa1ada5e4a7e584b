// A thin RAII layer over the SQLite C API for the SQLite driver (sqlite_storage.cpp): a connection
// whose errors become StorageError messages naming the file, prepared statements with typed binds.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nos::search::sqlite {

class Database;

class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds return *this so a statement reads as one expression; indices are 1-based.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::optional<double>& value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  bool step();  // true: a row is ready; false: done
  void run();   // steps to the end
  void reset();

  std::int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;  // "" for NULL
  std::string blob(int column) const;
  bool is_null(int column) const;
  int columns() const { return sqlite3_column_count(stmt_); }
  int type(int column) const { return sqlite3_column_type(stmt_, column); }  // SQLITE_INTEGER, ...
  std::optional<double> optional_real(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Throws StorageError. `uri` (a file: URI, opened with SQLITE_OPEN_URI) replaces the path for
  // opening only; messages still name `path`.
  Database(std::string path, int flags, const std::string& uri = "");
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  std::int64_t changes() const;
  bool read_only() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Throws StorageError: "<path>: <what>: <sqlite's message>", with the corrupt and not-a-database
  // cases said plainly.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace nos::search::sqlite
