#include "controller/search/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dsl/input_file.h"

namespace nos::search {
namespace {

using nlohmann::json;

// The file's bytes, refusing anything but a regular file before reading (a FIFO would block, a
// device never end) and reading at most one byte past the limit.
std::string read_bounded(const std::string& path) {
  if (std::string kind = dsl::non_regular_kind(path); !kind.empty())
    throw ConfigError(fmt::format("{}: is {}, not a regular file (a configuration is a JSON file)", path, kind));
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ConfigError(fmt::format("{}: cannot read the configuration: {}", path, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigError(fmt::format("{}: not a regular file (a configuration is a JSON file)", path));
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConfigError(fmt::format("{}: cannot read the configuration: {}", path, std::strerror(errno)));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes)
      throw ConfigError(fmt::format("{}: larger than {} bytes: not a search configuration", path, kMaxConfigFileBytes));
  }
  return text;
}

// 1-based line and column of byte offset `byte` (nlohmann counts the byte after the error).
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return {line, column};
}

}  // namespace

SearchConfig read_config_file(const std::string& path) {
  const std::string text = read_bounded(path);
  // The open objects and arrays, outermost first: an object's keys so far, its current key, and
  // the path that names it (`child`, `lr.grid`), for the message about a key given twice.
  struct Frame {
    bool object;
    std::string path;
    std::set<std::string> keys;
    std::string key;
  };
  std::vector<Frame> open;
  std::string duplicate;
  auto child_path = [&] {
    if (open.empty()) return std::string();
    const Frame& f = open.back();
    std::string name = f.object ? f.key : "[]";
    return f.path.empty() ? name : f.path + (f.object ? "." : "") + name;
  };
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open.push_back({true, child_path(), {}, {}}); break;
      case json::parse_event_t::array_start: open.push_back({false, child_path(), {}, {}}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end: open.pop_back(); break;
      case json::parse_event_t::key:
        open.back().key = parsed.get<std::string>();
        if (!open.back().keys.insert(open.back().key).second && duplicate.empty()) duplicate = child_path();
        break;
      case json::parse_event_t::value: break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, callback);
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column(text, e.byte);
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line L, column C: ...".
    std::string what = e.what();
    std::size_t colon = what.find(": ");
    throw ConfigError(fmt::format("{}:{}:{}: not valid JSON: {}", path, line, column,
                                  colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const json::out_of_range& e) {
    // A number beyond double ("number overflow parsing '1e400'"): nlohmann gives no position, so
    // place the literal it quotes.
    std::string what = e.what();
    std::size_t open_quote = what.find('\''), close_quote = what.rfind('\'');
    std::string literal = open_quote < close_quote ? what.substr(open_quote + 1, close_quote - open_quote - 1) : "";
    std::size_t at = literal.empty() ? std::string::npos : text.find(literal);
    auto [line, column] = line_column(text, at == std::string::npos ? 0 : at + 1);
    throw ConfigError(fmt::format("{}:{}:{}: not valid JSON: the number {} is out of range (a double)", path,
                                  line, column, literal.empty() ? "" : literal));
  }
  if (!duplicate.empty())
    throw ConfigError(fmt::format("{}: {}: given twice (JSON keeps only one; remove the other)", path, duplicate));
  return config_from_json(j, path);
}

SearchConfig stored_config(const SearchInfo& search, const std::string& location) {
  json j = json::parse(search.config_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw StorageError(fmt::format("{}: search '{}' has a configuration that is not JSON", location, search.name));
  return config_from_json(j, fmt::format("{}: search '{}': the stored configuration", location, search.name));
}

}  // namespace nos::search
