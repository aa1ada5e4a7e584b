#include "compiler/codegen/kernel_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "compiler/passes.h"

namespace nos::codegen {
namespace {

constexpr std::string_view kMagic = "NOS-KERNEL-1\n";

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::string CacheKey::describe() const {
  return "rule=" + ir::hash_hex(rule_hash) + " backend=" + backend + " dtype=" + dtype +
         " target=" + target + " compiler=" + compiler;
}

std::string CacheKey::file_name() const {
  return ir::hash_hex(rule_hash) + "-" + ir::hash_hex(fnv1a(describe())) + "." + backend;
}

std::filesystem::path default_cache_directory() {
  if (const char* dir = std::getenv("NOS_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "nos";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "nos";
  return std::filesystem::temp_directory_path() / "nos-cache";
}

DiskCache::DiskCache(std::filesystem::path directory) : directory_(std::move(directory)) {}

std::optional<std::string> DiskCache::read(const CacheKey& key) const {
  std::ifstream in(directory_ / key.file_name(), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  std::string data = std::move(content).str();
  std::string header = std::string(kMagic) + key.describe() + "\n";
  if (data.size() < header.size() + 8 || data.compare(0, header.size(), header) != 0) return std::nullopt;
  // The payload ends with its own FNV digest, so a truncated or damaged file is a miss.
  std::string_view payload(data.data() + header.size(), data.size() - header.size() - 8);
  std::uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= std::uint64_t(static_cast<unsigned char>(data[data.size() - 8 + i])) << (8 * i);
  if (stored != fnv1a(payload)) return std::nullopt;
  return std::string(payload);
}

bool DiskCache::write(const CacheKey& key, std::string_view bytes) const {
  static std::atomic<unsigned> counter{0};
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  std::filesystem::path final_path = directory_ / key.file_name();
  std::filesystem::path temp_path = directory_ / (key.file_name() + ".tmp." + std::to_string(::getpid()) + "." +
                                                  std::to_string(counter++));
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    std::uint64_t digest = fnv1a(bytes);
    out << kMagic << key.describe() << '\n';
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((digest >> (8 * i)) & 0xFF));
    if (!out.flush()) {
      std::filesystem::remove(temp_path, ec);
      return false;
    }
  }
  std::filesystem::rename(temp_path, final_path, ec);  // atomic on POSIX: readers see old or new
  if (ec) std::filesystem::remove(temp_path, ec);
  return !ec;
}

}  // namespace nos::codegen
