#include "controller/options.h"

#include <charconv>
#include <cmath>

namespace nos::controller {

Options Options::parse(std::span<const std::string> items) {
  Options options;
  for (const std::string& item : items) {
    std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw OptionError("strategy option '" + item + "': expected KEY=VALUE");
    options.set(item.substr(0, eq), item.substr(eq + 1));
  }
  return options;
}

Options& Options::set(std::string key, std::string value) {
  values_[std::move(key)] = std::move(value);
  return *this;
}

bool Options::has(std::string_view key) const { return values_.find(key) != values_.end(); }

void Options::check_known(std::string_view strategy, std::span<const OptionSpec> specs) const {
  for (const auto& [key, value] : values_) {
    bool known = false;
    for (const OptionSpec& spec : specs) known = known || spec.name == key;
    if (known) continue;
    std::string list;
    for (const OptionSpec& spec : specs) list += (list.empty() ? "" : ", ") + std::string(spec.name);
    throw OptionError("unknown option '" + key + "' for strategy '" + std::string(strategy) + "' (known: " + list + ")");
  }
}

std::string Options::get_string(std::string_view key, std::string_view fallback) const {
  auto found = values_.find(key);
  return found == values_.end() ? std::string(fallback) : found->second;
}

std::int64_t Options::get_int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
  auto found = values_.find(key);
  if (found == values_.end()) return fallback;
  const std::string& text = found->second;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw OptionError("option '" + std::string(key) + "': expected an integer, got '" + text + "'");
  if (value < min || value > max)
    throw OptionError("option '" + std::string(key) + "': " + text + " is outside [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  return value;
}

double Options::get_double(std::string_view key, double fallback, double min, double max) const {
  auto found = values_.find(key);
  if (found == values_.end()) return fallback;
  const std::string& text = found->second;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value))
    throw OptionError("option '" + std::string(key) + "': expected a number, got '" + text + "'");
  if (value < min || value > max)
    throw OptionError("option '" + std::string(key) + "': " + text + " is outside [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  return value;
}

}  // namespace nos::controller
