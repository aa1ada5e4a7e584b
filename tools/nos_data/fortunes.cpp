#include "tools/nos_data/fortunes.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace nos::data {
namespace fs = std::filesystem;
namespace {

bool is_plain_name(const std::string& name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open", path.string()));
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::invalid_argument(fmt::format("{}: cannot read", path.string()));
  return contents;
}

// The fortune files of a language directory, in name order (fortunes.h: which files count).
std::vector<fs::path> fortune_files(const Language& language) {
  std::error_code ec;
  if (!fs::is_directory(language.directory, ec))
    throw std::invalid_argument(fmt::format("{}: no such directory (the fortunes of language '{}'; on Debian the "
                                            "package {} installs them)",
                                            language.directory, language.name,
                                            language.name == "en" ? "fortunes" : "fortunes-" + language.name));
  std::vector<fs::path> files;
  fs::directory_iterator it(language.directory, ec);
  if (ec) throw std::invalid_argument(fmt::format("{}: cannot list: {}", language.directory, ec.message()));
  for (const fs::directory_entry& entry : it) {
    if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
    if (entry.path().extension() == ".dat") continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Language parse_language(const std::string& spec, const std::string& root) {
  const std::size_t eq = spec.find('=');
  Language language{spec.substr(0, eq), ""};
  if (!is_plain_name(language.name))
    throw std::invalid_argument(
        fmt::format("language '{}': a name of letters, digits, '-' or '_' (at most 32), optionally =DIR", spec));
  if (eq != std::string::npos) {
    language.directory = spec.substr(eq + 1);
    if (language.directory.empty()) throw std::invalid_argument(fmt::format("language '{}': no directory after '='", spec));
  } else {
    language.directory = language.name == "en" ? root : (fs::path(root) / language.name).string();
  }
  return language;
}

std::string normalize_fortunes(const std::string& contents) {
  std::string out;
  bool space = false;  // a space is owed before the next visible byte
  std::size_t line_start = 0;
  while (line_start < contents.size()) {
    std::size_t end = contents.find('\n', line_start);
    if (end == std::string::npos) end = contents.size();
    std::string_view line(contents.data() + line_start, end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line_start = end + 1;
    if (line == "%") {  // a fortune ends: it and the next are separated by a space, as lines are
      space = true;
      continue;
    }
    for (unsigned char c : line) {
      if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
        space = true;
      } else if (c >= 0x20 && c != 0x7f) {
        if (space && !out.empty()) out.push_back(' ');
        space = false;
        out.push_back(static_cast<char>(c));
      }
    }
    space = true;  // the line break
  }
  return out;
}

TextData fortune_windows(const std::vector<Language>& languages, const WindowOptions& options) {
  if (options.length < 1) throw std::invalid_argument("the window length must be at least 1 byte");
  std::vector<std::string> streams;
  TextData data;
  data.length = options.length;
  for (const Language& language : languages) {
    std::vector<fs::path> files = fortune_files(language);
    std::string stream;
    for (const fs::path& file : files) {
      std::string text = normalize_fortunes(read_file(file));
      if (text.empty()) continue;
      if (!stream.empty()) stream.push_back(' ');
      stream += text;
    }
    const auto windows = static_cast<std::int64_t>(stream.size()) / options.length;
    if (windows == 0)
      throw std::invalid_argument(fmt::format("{}: no text for language '{}': {} fortune file(s) hold {} byte(s), less "
                                              "than one window of {}",
                                              language.directory, language.name, files.size(), stream.size(),
                                              options.length));
    data.languages.push_back(language.name);
    data.available.push_back(windows);
    data.files.push_back(static_cast<std::int64_t>(files.size()));
    streams.push_back(std::move(stream));
  }
  std::int64_t per_language = *std::min_element(data.available.begin(), data.available.end());
  if (options.per_language > 0) per_language = std::min(per_language, options.per_language);
  data.windows = per_language * static_cast<std::int64_t>(languages.size());
  data.x.reserve(static_cast<std::size_t>(data.windows * options.length));
  int largest = 0;
  for (std::size_t c = 0; c < streams.size(); ++c) {
    // Spread over the whole text: the files are topics (politics, computers, ...), not samples.
    for (std::int64_t i = 0; i < per_language; ++i) {
      const std::int64_t window = i * data.available[c] / per_language;
      const auto* bytes = reinterpret_cast<const unsigned char*>(streams[c].data()) + window * options.length;
      for (std::int64_t b = 0; b < options.length; ++b) {
        data.x.push_back(static_cast<std::int16_t>(bytes[b]));
        largest = std::max<int>(largest, bytes[b]);
      }
      data.y.push_back(static_cast<std::int64_t>(c));
    }
  }
  data.vocabulary = largest + 1;
  return data;
}

}  // namespace nos::data
