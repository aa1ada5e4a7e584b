// What a database must supply for SqlStorage (sql_storage.h) to keep a search in it: statements with
// $n parameters and rows read back, transactions, a few dialect words, and its own connection
// handling (River's riverdriver split). Every rule of the search -- leases, fencing, attempts, row
// mapping, result checks, schema migration, tallies -- lives above, in SqlStorage, written once.
// Drivers: sqlite/ (one machine: WAL, flock, checkpoints) and postgres/ (many machines: reconnects
// with retry recognition, LISTEN/NOTIFY, advisory locks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "controller/search/storage.h"
#include "controller/search/storage/schema.h"

namespace nos::search::storage {

// The values of $1, $2, ... in order. Bytes travel as a blob (SQLite) or bytea (PostgreSQL).
struct Bytes {
  std::string_view data;
};
using Value = std::variant<std::monostate, std::int64_t, double, std::string_view, Bytes>;

class Params {
 public:
  Params& add(std::int64_t v) { return push(v); }
  Params& add(int v) { return push(static_cast<std::int64_t>(v)); }
  Params& add(double v) { return push(v); }
  Params& add(std::string_view v) { return push(v); }
  Params& add(const std::string& v) { return push(std::string_view(v)); }
  Params& add(const char* v) { return push(std::string_view(v)); }
  template <class T>
  Params& add(const std::optional<T>& v) {
    return v ? add(*v) : add_null();
  }
  Params& add_bytes(std::string_view v) { return push(Bytes{v}); }
  Params& add_null() { return push(std::monostate{}); }
  const std::vector<Value>& values() const { return values_; }

 private:
  Params& push(Value v) {
    values_.push_back(v);
    return *this;
  }
  std::vector<Value> values_;
};

// The rows a statement returned, read by row and column (0-based).
class Rows {
 public:
  virtual ~Rows() = default;
  virtual int size() const = 0;
  virtual std::int64_t affected() const = 0;  // rows an INSERT, UPDATE or DELETE changed
  virtual bool is_null(int row, int column) const = 0;
  virtual std::int64_t integer(int row, int column) const = 0;
  virtual double real(int row, int column) const = 0;
  virtual std::string text(int row, int column) const = 0;  // "" for NULL
  virtual std::string bytes(int row, int column) const = 0;
  bool empty() const { return size() == 0; }
  std::optional<std::int64_t> optional_integer(int row, int column) const {
    return is_null(row, column) ? std::nullopt : std::optional(integer(row, column));
  }
  std::optional<double> optional_real(int row, int column) const {
    return is_null(row, column) ? std::nullopt : std::optional(real(row, column));
  }
};

enum class TxKind {
  Write,  // SQLite: BEGIN IMMEDIATE (the write lock at once); PostgreSQL: read committed, rows locked explicitly
  Read,   // several reads that agree: SQLite's deferred BEGIN, PostgreSQL's repeatable read
};

// The row locks a statement may ask for; SQLite's write transaction locks the whole file instead.
enum class RowLock { Update, UpdateSkipLocked, NoKeyUpdate };

class Driver {
 public:
  virtual ~Driver() = default;
  virtual const std::string& location() const = 0;  // the path, or the URL with its password masked
  virtual schema::Dialect dialect() const = 0;
  virtual bool read_only() const = 0;
  // The database clock in unix seconds, as an SQL expression.
  virtual const char* now() const = 0;
  // " FOR UPDATE ..." (PostgreSQL) or "" (SQLite).
  virtual const char* lock(RowLock kind) const = 0;

  // One statement, parameters written $1, $2, ...; throws StorageError naming the location.
  virtual std::unique_ptr<Rows> exec(std::string_view sql, const Params& params = {}) = 0;
  virtual void begin(TxKind kind) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Whether `error` (thrown by exec) is a unique-constraint violation.
  virtual bool unique_violation(const StorageError& error) const = 0;

  // Runs one storage operation. PostgreSQL runs it again after a reconnect while the connection is
  // lost (then retried() is true, so the operation can recognize its own work whose commit's
  // acknowledgement was lost); SQLite runs it once.
  virtual void run(const std::function<void()>& operation) { operation(); }
  virtual bool retried() const { return false; }

  // ---- The schema (SqlStorage::prepare_schema) ----
  // Held while this connection inspects, creates or migrates the schema (inside a transaction).
  virtual void lock_schema() {}
  virtual bool has_table(std::string_view name) = 0;
  // A database with nothing in it yet: it gets the schema (SQLite: a file this driver created).
  virtual bool empty() = 0;
  // What a database without nos_schema is, for the message: "an SQLite file without ...".
  virtual std::string foreign() const = 0;
  // In the transaction that creates the schema (SQLite's application_id).
  virtual void creating() {}
  // The schema is there and right: the connection's settings that write (SQLite's WAL).
  virtual void opened() {}

  // ---- Connection-level services (storage.h says what each promises) ----
  virtual void notify(SearchId) {}
  virtual bool wait_for_work(SearchId search, double seconds) = 0;
  virtual bool notifies() const { return false; }
  virtual void lock_search(SearchId search) = 0;
  virtual void checkpoint() {}
};

// A transaction that rolls back unless committed.
class Transaction {
 public:
  Transaction(Driver& driver, TxKind kind) : driver_(driver) { driver_.begin(kind); }
  ~Transaction() {
    if (open_) driver_.rollback();
  }
  void commit() {
    open_ = false;
    driver_.commit();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Driver& driver_;
  bool open_ = true;
};

}  // namespace nos::search::storage
