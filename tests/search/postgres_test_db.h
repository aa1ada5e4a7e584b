// Fresh PostgreSQL databases for one test on the server that NOS_TEST_POSTGRES_URL names (a role
// that may create databases; tests/postgres/cluster.sh starts such a server): each is created
// empty, named nos_test_<pid>_<n>, and dropped at the end. Where the variable is unset, the tests
// that need one report [SKIP].
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nos::search::testing {

// The server's URL, or nullopt (then print the reason as a [SKIP] message).
inline std::optional<std::string> postgres_test_url() {
  const char* url = std::getenv("NOS_TEST_POSTGRES_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}
inline constexpr const char* kNoPostgres =
    "[SKIP] PostgreSQL storage: NOS_TEST_POSTGRES_URL is not set (tests/run.sh starts a private server; by hand: "
    "tests/postgres/cluster.sh)";

// The pieces of a libpq URL (user, password, host, port, dbname), as libpq reads them.
struct PostgresUrlParts {
  std::string user, password, host, port, dbname;

  static PostgresUrlParts parse(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
      std::string message = error ? error : "?";
      PQfreemem(error);
      throw std::runtime_error("NOS_TEST_POSTGRES_URL: " + message);
    }
    PostgresUrlParts parts;
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      std::string value = o->val ? o->val : "";
      std::string key = o->keyword;
      if (key == "user") parts.user = value;
      else if (key == "password") parts.password = value;
      else if (key == "host") parts.host = value;
      else if (key == "port") parts.port = value;
      else if (key == "dbname") parts.dbname = value;
    }
    PQconninfoFree(options);
    return parts;
  }

  // Back to a postgresql:// URL (a socket directory as host is percent-encoded).
  std::string url() const {
    std::string out = "postgresql://";
    if (!user.empty()) out += user + (password.empty() ? "" : ":" + password) + "@";
    for (char c : host) out += c == '/' ? std::string("%2F") : std::string(1, c);
    if (!port.empty()) out += ":" + port;
    return out + "/" + dbname;
  }
};

// Runs `sql` (one or more statements) on the database `url` names; throws with the server's message.
inline void postgres_sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connecting to " + url + ": " + message);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  PGresult* result = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + message);
}

// The first column of the last statement's rows in `sql` (one or more statements, one session),
// e.g. the lines of an EXPLAIN; throws with the server's message.
inline std::vector<std::string> postgres_rows(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connecting to " + url + ": " + message);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK;
  std::string message = PQresultErrorMessage(result);
  std::vector<std::string> rows;
  for (int i = 0; ok && i < PQntuples(result); ++i) rows.emplace_back(PQgetvalue(result, i, 0));
  PQclear(result);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + message);
  return rows;
}

class FreshPostgresDatabase {
 public:
  explicit FreshPostgresDatabase(const std::string& server_url) : server_(server_url) {
    static int counter = 0;
    PostgresUrlParts parts = PostgresUrlParts::parse(server_url);
    name_ = "nos_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    postgres_sql(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");  // a leftover of a killed run
    postgres_sql(server_, "CREATE DATABASE " + name_);
    parts.dbname = name_;
    url_ = parts.url();
  }
  ~FreshPostgresDatabase() {
    try {
      postgres_sql(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // The server is gone: nothing left to drop.
    }
  }
  FreshPostgresDatabase(const FreshPostgresDatabase&) = delete;
  FreshPostgresDatabase& operator=(const FreshPostgresDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_, name_, url_;
};

}  // namespace nos::search::testing
