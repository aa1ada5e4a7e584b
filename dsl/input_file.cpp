#include "dsl/input_file.h"

#include <system_error>

namespace nos::dsl {

std::string non_regular_kind(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // status(), not an open(): it never blocks, whatever the path is.
  fs::file_status status = fs::status(path, ec);
  if (ec) return "";
  switch (status.type()) {
    case fs::file_type::regular:
    case fs::file_type::not_found:
    case fs::file_type::none: return "";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::fifo: return "a FIFO (named pipe)";
    case fs::file_type::character: return "a character device";
    case fs::file_type::block: return "a block device";
    case fs::file_type::socket: return "a socket";
    default: return "something other than a regular file";
  }
}

}  // namespace nos::dsl
