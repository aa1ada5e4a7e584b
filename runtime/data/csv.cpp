#include "runtime/data/csv.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <string_view>

#include "runtime/data/idx.h"
#include "runtime/data/input_file.h"

namespace nos::runtime {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

std::optional<float> parse_float(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  float value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

CsvTable read_csv(const std::string& path) {
  check_regular_file(path);
  // Read a line at a time: memory follows the input (a float per field, a label per row).
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the file");
  CsvTable table;
  std::int64_t fields_per_row = 0;
  std::string line;
  for (std::int64_t line_number = 1; std::getline(in, line); ++line_number) {
    if (trim(line).empty()) continue;
    std::vector<std::string_view> fields = split_fields(line);
    std::string where = path + ":" + std::to_string(line_number) + ": ";
    if (fields_per_row == 0) {
      bool numeric = true;
      for (std::string_view f : fields) numeric = numeric && parse_float(f).has_value();
      if (!numeric && table.header.empty() && table.labels.empty()) {
        for (std::string_view f : fields) table.header.emplace_back(f);
        fields_per_row = static_cast<std::int64_t>(fields.size());
        continue;
      }
      fields_per_row = static_cast<std::int64_t>(fields.size());
    }
    if (static_cast<std::int64_t>(fields.size()) != fields_per_row)
      throw DataError(where + "expected " + std::to_string(fields_per_row) + " fields, got " +
                      std::to_string(fields.size()));
    if (fields_per_row < 2)
      throw DataError(where + "expected at least 2 fields (features, then the class label), got " +
                      std::to_string(fields_per_row));
    for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
      std::optional<float> value = parse_float(fields[i]);
      if (!value || !std::isfinite(*value))
        throw DataError(where + "field " + std::to_string(i + 1) + " '" + std::string(fields[i]) +
                        "' is not a finite number");
      table.features.push_back(*value);
    }
    std::optional<float> label = parse_float(fields.back());
    if (!label || *label < 0 || *label != std::floor(*label) || *label > 1e6f)
      throw DataError(where + "the label (last field) '" + std::string(fields.back()) +
                      "' is not a class number 0, 1, 2, ...");
    table.labels.push_back(static_cast<std::int64_t>(*label));
  }
  if (in.bad()) throw DataError(path + ": read error");
  if (table.labels.empty()) throw DataError(path + ": no data rows");
  table.columns = fields_per_row - 1;
  return table;
}

}  // namespace nos::runtime
