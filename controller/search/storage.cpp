#include "controller/search/storage.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "controller/search/storage/sqlite/sqlite_storage.h"
#ifdef NOS_HAVE_POSTGRES
#include "controller/search/storage/postgres/postgres_storage.h"
#endif

namespace nos::search {

std::unique_ptr<Storage> open_storage(const std::string& location, OpenMode mode) {
  if (location.starts_with("postgresql://") || location.starts_with("postgres://")) {
#ifdef NOS_HAVE_POSTGRES
    return std::make_unique<PostgresStorage>(location, mode);
#else
    (void)mode;
    throw StorageError(fmt::format("{}: PostgreSQL storage is not built (this nos-search was built without libpq: "
                                   "install libpq-dev, cmake/setup-debian.sh, and rebuild)",
                                   mask_password(location)));
#endif
  }
  if (location.empty()) throw StorageError("no search database given (an empty path)");
  return std::make_unique<SqliteStorage>(location, mode);
}

bool Storage::wait_for_work(SearchId, double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return false;
}

std::string mask_password(std::string_view url) {
  std::string out(url);
  size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;  // a path
  {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find(':', start);
      if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // A password given as a parameter: ?password=... or &password=...
  size_t query = out.find('?');
  while (query != std::string::npos) {
    size_t key = query + 1;
    if (out.compare(key, 9, "password=") == 0) {
      size_t value = key + 9;
      size_t next = out.find('&', value);
      out.replace(value, (next == std::string::npos ? out.size() : next) - value, "***");
    }
    query = out.find('&', key);
  }
  return out;
}

}  // namespace nos::search
