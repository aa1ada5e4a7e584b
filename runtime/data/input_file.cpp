#include "runtime/data/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "dsl/input_file.h"
#include "runtime/data/idx.h"

namespace nos::runtime {
void check_regular_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (std::string kind = dsl::non_regular_kind(path); !kind.empty())
    throw DataError(fmt::format("{}: is {}, not a regular file", path, kind));
}

}  // namespace nos::runtime
