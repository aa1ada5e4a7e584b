#include "controller/search/storage.h"

#include <fmt/format.h>

#include <algorithm>

#include "controller/search/storage_sqlite.h"

namespace nos::search {

std::unique_ptr<Storage> open_storage(const std::string& location, OpenMode mode) {
  if (location.starts_with("postgresql://") || location.starts_with("postgres://"))
    throw StorageError(fmt::format("{}: PostgreSQL storage is not built yet (only SQLite files for now)", location));
  if (location.empty()) throw StorageError("no search database given (an empty path)");
  return std::make_unique<SqliteStorage>(location, mode);
}

bool is_status(std::string_view status) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses);
}

bool is_source(std::string_view source) {
  return std::find(std::begin(kSources), std::end(kSources), source) != std::end(kSources);
}

}  // namespace nos::search
