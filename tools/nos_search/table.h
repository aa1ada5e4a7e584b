// Plain-text tables for a terminal: columns padded to their widest cell, numbers right-aligned,
// long text cut with "..." (the full text is in the command's --json output).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nos::search::cli {

struct Column {
  std::string title;
  bool right = false;  // right-aligned (numbers)
};

// Cells are ASCII (rules, tokens and hashes are); one line per row, two spaces between columns,
// no trailing blanks.
std::string render_table(const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows);

// `text` when it fits in `width` characters, else its first width - 3 and "...".
std::string truncate(std::string_view text, std::size_t width);

// A stored number for a table cell: "-" when absent, else up to 6 significant digits.
std::string number_cell(const std::optional<double>& value);

}  // namespace nos::search::cli
