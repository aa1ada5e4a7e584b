// Where `nos-search final` keeps its results: every run of it is its own artifact, 'final:N'
// (N = 1, 2, ... in the order they were stored, each with its settings), never replaced. A database
// written before the numbering holds one plain 'final': it is read as the oldest. Torch-free:
// `report` lists them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/search/storage.h"

namespace nos::search::cli {

// "final" -> 0 (the unnumbered one of older databases), "final:12" -> 12; none for any other key
// ("final:table", "baseline:adam").
std::optional<int> final_number(std::string_view key);

// The keys of the stored finals among `artifact_keys`, oldest first (by number).
std::vector<std::string> final_keys(const std::vector<std::string>& artifact_keys);

// "final:N".
std::string final_key(int number);

// Stores `document` (an object) as the next free 'final:N', with "key" and "number" set in it, and
// returns the key; a final stored by another process meanwhile makes it take the next number.
// Text that is not valid UTF-8 is stored with U+FFFD in its place: the trainings are done by now.
std::string store_final(Storage& storage, SearchId search, nlohmann::json document);

}  // namespace nos::search::cli
