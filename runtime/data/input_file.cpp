#include "runtime/data/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "runtime/data/idx.h"

namespace nos::runtime {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

}  // namespace

void check_regular_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (!S_ISREG(info.st_mode)) throw DataError(fmt::format("{}: is {}, not a regular file", path, kind_of(info.st_mode)));
}

}  // namespace nos::runtime
