#include "compiler/codegen/kernel_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "compiler/passes.h"

namespace nos::codegen {
namespace {

constexpr std::string_view kMagic = "NOS-KERNEL-1\n";

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Closes a file descriptor on every way out of a scope.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// The whole entry, if it is a regular file of at most kMaxCacheEntryBytes. Anything else in its
// place (a FIFO, a device, a directory, a file too large to be a kernel) is a damaged entry, read
// as a miss: a cache directory is shared and outlives this process, so it is input like any other.
std::optional<std::string> read_entry(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever (it has no effect on
  // regular files). fstat on the open descriptor, not the path, so the checked file is the one read.
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) return std::nullopt;
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  if (info.st_size < 0 || static_cast<std::uint64_t>(info.st_size) > kMaxCacheEntryBytes) return std::nullopt;
  std::string data(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(file.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // an error, or the file shrank under us: a damaged entry
    done += static_cast<std::size_t>(n);
  }
  return data;  // bytes appended after fstat are not ours: the digest check judges what was read
}

}  // namespace

std::uint64_t content_digest(std::string_view bytes) { return fnv1a(bytes); }

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
  std::optional<std::string> entry = read_entry(directory_ / key.file_name());
  if (!entry) return std::nullopt;
  const std::string& data = *entry;
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
