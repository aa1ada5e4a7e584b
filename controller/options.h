// A strategy's options: `key=value` pairs checked against the strategy's table of known keys, read
// through typed getters whose errors name the option, so a typo on the command line is caught.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nos::controller {

// Bad strategy options: an unknown key, a malformed value, a value out of range. An
// std::invalid_argument, so the tools report it as bad input (exit 1).
struct OptionError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// One row of a strategy's option table: what --help and README.md show.
struct OptionSpec {
  std::string_view name;
  std::string_view default_value;
  std::string_view meaning;
};

class Options {
 public:
  Options() = default;
  // Each item is `key=value`; a key given twice keeps the last value (command lines override).
  static Options parse(std::span<const std::string> items);
  Options& set(std::string key, std::string value);

  bool has(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

  // Throws OptionError naming the first key not in `specs` (and listing the known ones).
  void check_known(std::string_view strategy, std::span<const OptionSpec> specs) const;

  // Typed reads: the value given, else `fallback`. Errors name the key and the value.
  std::string get_string(std::string_view key, std::string_view fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_double(std::string_view key, double fallback, double min, double max) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace nos::controller
