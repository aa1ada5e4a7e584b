// A thin RAII layer over libpq for the PostgreSQL driver (postgres_storage.cpp): a connection opened
// from a postgresql:// URL whose errors become StorageError messages naming the URL (its password
// masked), statements with $n parameters sent as text (bytes as binary), results by row and column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/search/storage.h"

struct pg_conn;
struct pg_result;

namespace nos::search::pg {

using nos::search::mask_password;

// A failed statement; sqlstate() is PostgreSQL's error code ("23505": a unique violation).
// connection_lost(): the session is gone (the server restarted or ended it, the network broke), so
// the statement may be retried on a new connection; every other error is the statement's own.
class Error : public StorageError {
 public:
  Error(const std::string& message, std::string sqlstate, bool connection_lost = false)
      : StorageError(message), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }
  // The server's own message (what() names the URL and the statement too).
  const std::string& reason() const { return reason_; }
  Error& with_reason(std::string reason) {
    reason_ = std::move(reason);
    return *this;
  }

 private:
  std::string sqlstate_;
  bool connection_lost_;
  std::string reason_;
};
inline constexpr std::string_view kUniqueViolation = "23505";

// The values of $1, $2, ... in order: text form, NULL for an empty optional, bytes (bytea) binary.
class Params {
 public:
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(double value);
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(const std::optional<double>& value);
  Params& add(const std::optional<std::int64_t>& value);
  Params& add_bytes(std::string_view bytes);
  Params& add_null();

  int size() const { return static_cast<int>(values_.size()); }
  // Arrays for PQexecParams, valid while this object lives and is not changed.
  std::vector<const char*> value_pointers() const;
  std::vector<int> lengths() const;
  const std::vector<int>& formats() const { return formats_; }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> formats_;
};

// The rows of one statement (text format).
class Result {
 public:
  explicit Result(pg_result* result) : result_(result) {}
  ~Result();
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  bool empty() const { return rows() == 0; }
  std::int64_t affected() const;  // rows an INSERT, UPDATE or DELETE changed

  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;  // "" for NULL
  std::int64_t integer(int row, int column) const;
  double real(int row, int column) const;
  std::string bytes(int row, int column) const;  // a bytea column, decoded
  std::optional<double> optional_real(int row, int column) const;
  std::optional<std::int64_t> optional_integer(int row, int column) const;

 private:
  pg_result* result_;
};

class Connection {
 public:
  // Throws StorageError "<masked url>: not a valid PostgreSQL URL: ..." or "...: cannot connect: ...".
  explicit Connection(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement with parameters; throws pg::Error "<masked url>: <what it ran>: <server message>".
  Result exec(std::string_view sql, const Params& params = {});
  // The masked URL.
  const std::string& name() const { return name_; }
  // Waits up to `seconds` for a notification on a channel this connection LISTENs to; true when one
  // (or more) arrived, all consumed. A pg::Error with connection_lost() when the connection broke.
  bool wait_for_notification(double seconds);
  // Closes the broken connection and opens a new one with the same parameters (the session's
  // settings, LISTENs and locks are gone with the old one). "" when connected, else libpq's reason.
  std::string reconnect();
  // Fault injection for the tests of retries: the next COMMIT commits, then its acknowledgement is
  // "lost" (the connection is shut down and exec throws a connection_lost() Error), as when the
  // network breaks at that moment.
  void lose_next_commit_acknowledgement() { lose_commit_ack_ = true; }

 private:
  std::string name_;
  pg_conn* conn_ = nullptr;
  bool lose_commit_ack_ = false;
};

}  // namespace nos::search::pg
