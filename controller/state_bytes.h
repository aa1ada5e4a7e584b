// The byte format of a strategy's saved state: a little-endian stream of fixed-width numbers,
// strings and float arrays, behind a magic and a version, read back with checks that name what is
// wrong (a truncated or foreign state is an error, never garbage parameters).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/tokens.h"

namespace nos::controller {

class ByteWriter {
 public:
  // `kind` names the strategy; restore refuses the state of another kind.
  explicit ByteWriter(std::string_view kind);
  void u64(std::uint64_t value);
  void i64(std::int64_t value) { u64(static_cast<std::uint64_t>(value)); }
  void f64(double value);
  void str(std::string_view value);
  void floats(std::span<const float> values);
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  // Throws std::invalid_argument ("saved strategy state: ...") on a foreign or damaged header.
  ByteReader(std::string_view bytes, std::string_view kind);
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  std::string str();
  std::vector<float> floats();
  void expect_end() const;  // trailing bytes mean a state from another version or options

 private:
  std::string_view take(std::size_t n, const char* what);
  std::string_view bytes_;
  std::size_t at_ = 0;
};

// Token sequences, checked on reading against dsl::choices (a state never yields invalid tokens).
void write_tokens(ByteWriter& out, const dsl::TokenSequence& tokens);
dsl::TokenSequence read_tokens(ByteReader& in);

// The error every reader failure throws: an std::invalid_argument (bad input, exit 1).
[[noreturn]] void bad_state(const std::string& what);

}  // namespace nos::controller
