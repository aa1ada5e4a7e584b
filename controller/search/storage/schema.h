// The search database's schema, written once for every backend: the tables as SQL with a few
// dialect words filled in (SQLite, PostgreSQL), the schema version, and the migrations
// that bring an older database up to it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nos::search::schema {

// The value of nos_schema.application: what marks a database as a NOS search.
inline constexpr std::string_view kApplication = "nos-search";
// Bumped with every change to the statements below; a migration must then exist from the last one.
inline constexpr int kVersion = 5;

enum class Dialect { SQLite, PostgreSQL };

// CREATE TABLE / CREATE INDEX statements of version kVersion, in order, without nos_schema's row.
std::vector<std::string> create_statements(Dialect dialect);

// The statements that take a database from version `from` to `from + 1`. Empty when there is no
// such migration (a database that old cannot be opened).
struct Migration {
  int from;
  std::vector<std::string> (*statements)(Dialect dialect);
};
const std::vector<Migration>& migrations();

}  // namespace nos::search::schema
