#include "support/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace nos::support {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(int error, std::string_view what, const fs::path& path) {
  std::string prefix = what.empty() ? std::string() : fmt::format("{}: ", what);
  throw FileError(error ? error : EIO, fmt::format("{}cannot write '{}'", prefix, path.string()));
}

// A new, empty, uniquely named file beside `path`, open for writing; its name in `temp`. Created
// 0666 less the umask, as the output file itself would be (mkstemp's 0600 would stick after the
// rename).
int create_temporary(const fs::path& path, std::string_view what, fs::path& temp) {
  if (path.filename().empty()) fail(EISDIR, what, path);
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail(EISDIR, what, path);
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = dir / fmt::format(".{}.tmp-{}-{}-{:x}", path.filename().string().substr(0, 100), ::getpid(), counter++,
                             random() & 0xffffff);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) fail(errno, what, path);
  }
  fail(EEXIST, what, path);
}

// Removes the temporary file, then reports `error`.
[[noreturn]] void abandon(int fd, const fs::path& temp, int error, std::string_view what, const fs::path& path) {
  if (fd >= 0) ::close(fd);
  ::unlink(temp.c_str());
  fail(error, what, path);
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view bytes, std::string_view what) {
  fs::path temp;
  int fd = create_temporary(path, what, temp);
  for (std::size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) abandon(fd, temp, n < 0 ? errno : ENOSPC, what, path);
    done += static_cast<std::size_t>(n);
  }
  // Without fsync a crash soon after the rename could leave an empty file under the new name.
  if (::fsync(fd) != 0) abandon(fd, temp, errno, what, path);
  if (::close(fd) != 0) abandon(-1, temp, errno, what, path);
  if (::rename(temp.c_str(), path.c_str()) != 0) abandon(-1, temp, errno, what, path);
}

void check_writable(const fs::path& path, std::string_view what) {
  fs::path temp;
  int fd = create_temporary(path, what, temp);
  ::close(fd);
  ::unlink(temp.c_str());
}

}  // namespace nos::support
