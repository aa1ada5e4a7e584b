#include "tools/nos_search/open_search.h"

#include <fmt/format.h>

namespace nos::search::cli {
namespace {

std::string names(const std::vector<SearchInfo>& searches) {
  std::string out;
  for (const auto& s : searches) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

}  // namespace

std::unique_ptr<Storage> open_read_only(const DatabaseOptions& options) {
  return open_storage(options.database, OpenMode::ReadOnly);
}

std::vector<SearchInfo> selected_searches(Storage& storage, const DatabaseOptions& options) {
  std::vector<SearchInfo> all = storage.searches();
  if (options.search.empty()) return all;
  for (const auto& s : all)
    if (s.name == options.search) return {s};
  throw StorageError(fmt::format("{}: no search named '{}' (it holds: {})", storage.location(), options.search,
                                 all.empty() ? "none" : names(all)));
}

SearchInfo choose_search(Storage& storage, const DatabaseOptions& options) {
  std::vector<SearchInfo> searches = selected_searches(storage, options);
  if (searches.empty()) throw StorageError(fmt::format("{}: holds no search yet", storage.location()));
  if (searches.size() > 1)
    throw StorageError(fmt::format("{}: holds {} searches ({}): choose one with --search", storage.location(),
                                   searches.size(), names(searches)));
  return searches.front();
}

}  // namespace nos::search::cli
