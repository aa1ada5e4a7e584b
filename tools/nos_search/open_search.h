// Opening a search database for reading and choosing the search a command works on.
#pragma once

#include <memory>
#include <vector>

#include "tools/nos_search/commands.h"
#include "controller/search/storage.h"

namespace nos::search::cli {

// ReadOnly: status, top and export never write. Throws StorageError naming the file.
std::unique_ptr<Storage> open_read_only(const DatabaseOptions& options);

// The search named by --search, or the file's only one. StorageError (naming the file) when the
// name is unknown, the file holds none, or several without --search.
SearchInfo choose_search(Storage& storage, const DatabaseOptions& options);

// Every search (status without --search), or the one --search names.
std::vector<SearchInfo> selected_searches(Storage& storage, const DatabaseOptions& options);

}  // namespace nos::search::cli
