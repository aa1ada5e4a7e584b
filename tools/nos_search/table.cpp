#include "tools/nos_search/table.h"

#include <fmt/format.h>

#include <algorithm>

namespace nos::search::cli {

std::string render_table(const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) width[c] = columns[c].title.size();
  for (const auto& row : rows)
    for (std::size_t c = 0; c < columns.size() && c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](auto cell) {
    std::string out;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) out += "  ";
      std::string text = cell(c);
      std::string pad(width[c] - text.size(), ' ');
      out += columns[c].right ? pad + text : text + pad;
    }
    out.erase(out.find_last_not_of(' ') + 1);
    return out + '\n';
  };
  std::string out = line([&](std::size_t c) { return columns[c].title; });
  for (const auto& row : rows) out += line([&](std::size_t c) { return c < row.size() ? row[c] : std::string(); });
  return out;
}

std::string truncate(std::string_view text, std::size_t width) {
  if (text.size() <= width) return std::string(text);
  if (width <= 3) return std::string(text.substr(0, width));
  return std::string(text.substr(0, width - 3)) + "...";
}

std::string number_cell(const std::optional<double>& value) {
  return value ? fmt::format("{:.6g}", *value) : "-";
}

}  // namespace nos::search::cli
