// nos-search run, worker, status and top on PostgreSQL URLs they cannot use, end to end: a URL
// libpq does not read, a server that is not there, a wrong password, a database that does not
// exist, is empty, holds unrelated tables, holds no search or not the one asked for, or has a NOS
// schema of another version. Each is exit 1 with one message naming the URL with its password
// masked, nothing on standard output, and nothing written (no search, no table, no workers' log).
// The cases that need a server use NOS_TEST_POSTGRES_URL (tests/run.sh starts one), else [SKIP].
#include <doctest/doctest.h>

#include <libpq-fe.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "controller/search/storage.h"
#include "tests/search/postgres_test_db.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::FreshPostgresDatabase;
using testing::PostgresUrlParts;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A search name no other test uses: `run` on a URL writes NAME.workers.log in the current directory.
std::string unique_name() { return "pgcli_" + std::to_string(getpid()); }

// The commands that open the database, each as a user would type it.
std::vector<std::vector<std::string>> commands(const std::string& url) {
  std::vector<std::vector<std::string>> all{{"status", url}, {"top", url}};
#if NOS_SEARCH_HAS_RUN
  all.push_back({"worker", "--db", url, "--max-idle", "1"});
  all.push_back({"run", "--db", url, "--name", unique_name(), "--child", "synthetic:0", "--budget", "8", "--batch", "8",
                 "--workers", "1", "--no-report", "--quiet"});
#endif
  return all;
}

// Every command exits 1 with `message` after the masked URL; the password never shows; nothing
// is written beside the database either.
void expect_refused(const std::vector<std::vector<std::string>>& cases, const std::string& url, const std::string& message,
                    const std::string& secret = "") {
  for (const std::vector<std::string>& args : cases) {
    ToolResult r = run_tool("nos-search", args);
    INFO("nos-search ", args[0], ": ", r.err);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "nos-search: error: " + mask_password(url) + ": " + message));
    CHECK(r.out.empty());
    if (!secret.empty()) CHECK_FALSE(contains(r.err, secret));
    CHECK_FALSE(std::filesystem::exists(unique_name() + ".workers.log"));
  }
}

// The first column of the first row of `sql`'s result on `url`.
std::string query_value(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  REQUIRE_MESSAGE(PQstatus(conn) == CONNECTION_OK, PQerrorMessage(conn));
  PGresult* result = PQexec(conn, sql.c_str());
  std::string value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0 ? PQgetvalue(result, 0, 0) : "?";
  PQclear(result);
  PQfinish(conn);
  return value;
}

std::string table_count(const std::string& url) {
  return query_value(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");
}

}  // namespace

TEST_CASE("nos-search on a PostgreSQL URL: one libpq cannot read, a server that is not there: exit 1 naming it masked") {
  // No server needed: nothing listens on port 1.
  std::string bad = "postgresql://nos@127.0.0.1/nos?colour=blue";
  expect_refused(commands(bad), bad, "not a valid PostgreSQL URL: invalid URI query parameter: \"colour\"");
  std::string nobody = "postgresql://nos:secret-pw@127.0.0.1:1/nos";
  CHECK(mask_password(nobody) == "postgresql://nos:***@127.0.0.1:1/nos");
  expect_refused(commands(nobody), nobody, "cannot connect: ", "secret-pw");
}

TEST_CASE("nos-search on a PostgreSQL URL: wrong credentials, missing, empty and foreign databases, other schema versions") {
  std::optional<std::string> server = testing::postgres_test_url();
  if (!server) {
    MESSAGE(std::string(testing::kNoPostgres));
    return;
  }
  PostgresUrlParts parts = PostgresUrlParts::parse(*server);

  PostgresUrlParts wrong = parts;
  wrong.password = "not-the-password";
  expect_refused(commands(wrong.url()), wrong.url(), "cannot connect: ", "not-the-password");
  CHECK(contains(run_tool("nos-search", {"status", wrong.url()}).err, "password authentication failed"));

  PostgresUrlParts missing = parts;
  missing.dbname = "nos_no_such_database";
  expect_refused(commands(missing.url()), missing.url(), "cannot connect: ");
  CHECK(contains(run_tool("nos-search", {"top", missing.url()}).err, "\"nos_no_such_database\" does not exist"));

  // An empty database: nothing to read or work on (run may start a search there).
  FreshPostgresDatabase empty(*server);
  std::vector<std::vector<std::string>> readers = commands(empty.url());
#if NOS_SEARCH_HAS_RUN
  readers.pop_back();
#endif
  expect_refused(readers, empty.url(), "not a NOS search database (the database is empty)");
  CHECK(table_count(empty.url()) == "0");

  // Another application's tables: refused by every command, run included, and left alone.
  FreshPostgresDatabase foreign(*server);
  testing::postgres_sql(foreign.url(), "CREATE TABLE trials (id INTEGER)");
  expect_refused(commands(foreign.url()), foreign.url(),
                 "not a NOS search database (a PostgreSQL database with tables but without nos_schema)");
  CHECK(table_count(foreign.url()) == "1");

  // A NOS database without a search, or without the one asked for.
  FreshPostgresDatabase fresh(*server);
  open_storage(fresh.url(), OpenMode::Create);
  expect_refused({{"top", fresh.url()}}, fresh.url(), "holds no search yet");
#if NOS_SEARCH_HAS_RUN
  expect_refused({{"worker", "--db", fresh.url()}}, fresh.url(), "holds no search yet");
#endif
  open_storage(fresh.url(), OpenMode::Open)->create_search("lstm-1", "{}", {});
  expect_refused({{"status", fresh.url(), "--search", "cifar"}}, fresh.url(), "no search named 'cifar' (it holds: lstm-1)");
#if NOS_SEARCH_HAS_RUN
  expect_refused({{"worker", "--db", fresh.url(), "--search", "cifar"}}, fresh.url(),
                 "no search named 'cifar' (it holds: lstm-1)");
#endif

  // A schema of another NOS: newer (refused by all), older without a migration (refused; the
  // readers say that a writable open would migrate a version that has one).
  FreshPostgresDatabase versions(*server);
  open_storage(versions.url(), OpenMode::Create)->create_search("lstm-1", "{}", {});
  testing::postgres_sql(versions.url(), "UPDATE nos_schema SET version = 99");
  expect_refused(commands(versions.url()), versions.url(),
                 "schema version 99 is newer than this NOS reads (5): use a newer nos-search");
  testing::postgres_sql(versions.url(), "UPDATE nos_schema SET version = 0");
  expect_refused({{"status", versions.url()}, {"top", versions.url()}}, versions.url(), "schema version 0 is older than 5");
#if NOS_SEARCH_HAS_RUN
  std::vector<std::vector<std::string>> writers = commands(versions.url());
  writers.erase(writers.begin(), writers.begin() + 2);
  expect_refused(writers, versions.url(), "schema version 0 cannot be migrated to 5 (no migration from 0)");
#endif
  CHECK(query_value(versions.url(), "SELECT count(*) FROM searches") == "1");  // run added none
  CHECK(query_value(versions.url(), "SELECT version FROM nos_schema") == "0");
}

}  // namespace nos::search
