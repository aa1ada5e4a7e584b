#include "benchmarks/nos_bench/child_process.h"

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace nos::bench {

std::string default_nos_search() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("nos-search") : (self.parent_path() / "nos-search").string();
}

std::string command_line(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string tail_of(const std::string& path, int n) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > static_cast<std::size_t>(n) ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "  " + lines[i] + "\n";
  return out;
}

WorkDir::WorkDir(const std::string& keep, const std::string& prefix) : temporary_(keep.empty()) {
  namespace fs = std::filesystem;
  if (temporary_) {
    std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::system_error(errno, std::generic_category(), "cannot create a temporary directory");
    path_ = pattern;
  } else {
    path_ = keep;
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) throw std::invalid_argument(fmt::format("--keep: cannot create '{}': {}", keep, ec.message()));
  }
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (temporary_) std::filesystem::remove_all(path_, ec);
}

}  // namespace nos::bench
