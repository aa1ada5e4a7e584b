// Tabular data from a CSV file: one example per row, numeric features, the integer class label in
// the last column, an optional header line. Torch-free; errors name file and line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nos::runtime {

struct CsvTable {
  std::vector<float> features;        // rows x columns, row-major
  std::vector<std::int64_t> labels;   // one per row, >= 0
  std::int64_t columns = 0;           // features per row (fields minus the label)
  std::vector<std::string> header;    // the header's field names, when the file has one
};

// Fields are separated by commas and may be padded with spaces; blank lines are skipped. The first
// line is a header when any of its fields is not a number. Throws DataError ("file:line: ..."),
// also for anything but a regular file (input_file.h).
CsvTable read_csv(const std::string& path);

}  // namespace nos::runtime
