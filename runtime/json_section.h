// Strict reading of one JSON object of a configuration (the search's, a task's): every key a known
// one, every value of the field's type and range; messages say `where: path.key: problem`.
// Torch-free.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/json_text.h"

namespace nos {

class JsonSection {
 public:
  using json = nlohmann::json;

  // `where` (a file, "the stored configuration"; may be empty) starts every message, `path` ("child")
  // prefixes the keys.
  JsonSection(const json& j, std::string_view where, std::string path) : j_(j), where_(where), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_.empty() ? "the configuration" : path_, "expected a JSON object");
  }

  // A value as a message shows it: JSON text, its strings made valid UTF-8, cut at 60 characters.
  static std::string text_of(const json& v) {
    std::string text = json_text(v);
    return text.size() > 60 ? text.substr(0, 57) + "..." : text;
  }

  // Throws std::invalid_argument; callers that need their own type catch and rethrow it.
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    if (where_.empty()) throw std::invalid_argument(fmt::format("{}: {}", key, problem));
    throw std::invalid_argument(fmt::format("{}: {}: {}", where_, key, problem));
  }
  std::string key(std::string_view name) const { return path_.empty() ? std::string(name) : path_ + "." + std::string(name); }

  template <class Names>
  void check_known(const Names& names) const {
    for (const auto& [name, value] : j_.items()) {
      bool known = false;
      for (std::string_view n : names) known = known || n == name;
      if (!known) fail(key(name), fmt::format("unknown key (known: {})", fmt::join(names, ", ")));
    }
  }
  void check_known(std::initializer_list<std::string_view> names) const { check_known<std::initializer_list<std::string_view>>(names); }

  bool has(std::string_view name) const { return j_.contains(name); }
  const json& at(std::string_view name) const { return j_.at(std::string(name)); }
  JsonSection section(std::string_view name) const { return JsonSection(at(name), where_, key(name)); }

  template <class T>
  void read(std::string_view name, T& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) fail(key(name), "expected true or false");
      out = v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      // Out of the field's range is refused, never wrapped or truncated ("seed": -1, "epochs": 1e10).
      constexpr auto lo = std::numeric_limits<T>::min();
      constexpr auto hi = std::numeric_limits<T>::max();
      bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
                  : v.is_number_integer() ? std::is_signed_v<T> ? v.get<std::int64_t>() >= static_cast<std::int64_t>(lo) &&
                                                                      v.get<std::int64_t>() <= static_cast<std::int64_t>(hi)
                                                                : v.get<std::int64_t>() >= 0
                                          : false;
      if (!v.is_number_integer()) fail(key(name), fmt::format("expected an integer, not {}", text_of(v)));
      if (!fits) fail(key(name), fmt::format("expected an integer from {} to {}, not {}", lo, hi, text_of(v)));
      out = v.get<T>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) fail(key(name), fmt::format("expected a number, not {}", text_of(v)));
      out = v.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) fail(key(name), fmt::format("expected a string, not {}", text_of(v)));
      out = v.get<std::string>();
    } else {
      static_assert(sizeof(T) == 0, "no reader for this type");
    }
  }

  void read(std::string_view name, std::optional<double>& out) const {
    if (!has(name) || at(name).is_null()) return;
    double value = 0;
    read(name, value);
    out = value;
  }

  void read(std::string_view name, std::vector<double>& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if (!v.is_array()) fail(key(name), "expected an array of numbers");
    out.clear();
    for (const json& x : v) {
      if (!x.is_number()) fail(key(name), fmt::format("expected an array of numbers, found {}", text_of(x)));
      out.push_back(x.get<double>());
    }
  }

  void read(std::string_view name, std::vector<std::int64_t>& out) const {
    if (!has(name)) return;
    const json& v = at(name);
    if (!v.is_array()) fail(key(name), "expected an array of integers");
    out.clear();
    for (const json& x : v) {
      if (!x.is_number_integer()) fail(key(name), fmt::format("expected an array of integers, found {}", text_of(x)));
      out.push_back(x.get<std::int64_t>());
    }
  }

 private:
  const json& j_;
  std::string_view where_;
  std::string path_;
};

}  // namespace nos
