#include "tools/nos_search/final_artifacts.h"
#include "runtime/json_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace nos::search::cli {

std::optional<int> final_number(std::string_view key) {
  if (key == "final") return 0;
  constexpr std::string_view kPrefix = "final:";
  if (key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = key.substr(kPrefix.size());
  if (digits.empty() || digits.front() == '0') return std::nullopt;
  int n = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

std::vector<std::string> final_keys(const std::vector<std::string>& artifact_keys) {
  std::vector<std::pair<int, std::string>> numbered;
  for (const std::string& key : artifact_keys)
    if (std::optional<int> n = final_number(key)) numbered.emplace_back(*n, key);
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> out;
  for (auto& [n, key] : numbered) out.push_back(std::move(key));
  return out;
}

std::string final_key(int number) { return fmt::format("final:{}", number); }

std::string store_final(Storage& storage, SearchId search, nlohmann::json document) {
  int number = 1;
  for (const std::string& key : storage.artifact_keys(search))
    if (std::optional<int> n = final_number(key)) number = std::max(number, *n + 1);
  for (;; ++number) {
    std::string key = final_key(number);
    document["key"] = key;
    document["number"] = number;
    if (storage.add_artifact(search, key, json_text(document)))
      return key;
  }
}

}  // namespace nos::search::cli
