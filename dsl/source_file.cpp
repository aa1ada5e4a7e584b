#include "dsl/source_file.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "dsl/diagnostic.h"
#include "dsl/input_file.h"

namespace nos::dsl {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_file(std::string message) {
  throw Error(Diagnostic{Severity::Error, nullptr, {}, std::move(message)});
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

std::string describe_size(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB (" + std::to_string(bytes) + " bytes)";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

std::string read_file(const std::string& path, std::size_t max_bytes, std::string_view what) {
  const std::string quoted = "'" + path + "'";
  // The type is checked before the file is opened: opening a FIFO for reading blocks until a
  // writer comes, and a device such as /dev/zero never ends.
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec) fail_file("cannot open " + quoted + ": " + ec.message());
  if (status.type() == fs::file_type::directory)
    fail_file("cannot open " + quoted + ": " + std::make_error_code(std::errc::is_a_directory).message());
  if (std::string kind = non_regular_kind(path); !kind.empty())
    fail_file("cannot open " + quoted + ": it is " + kind + "; a " + std::string(what) + " must be a regular file");
  std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > max_bytes)
    fail_file(quoted + " is " + std::to_string(size) + " bytes; a " + std::string(what) + " holds at most " +
              describe_size(max_bytes));

  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) fail_file("cannot open " + quoted + ": " + std::generic_category().message(errno));
  std::string text;
  text.reserve(ec ? 0 : static_cast<std::size_t>(size));
  // One byte more than the limit tells a file that grew past it since the size was read.
  char buffer[65536];
  while (text.size() <= max_bytes) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    if (n == 0) break;
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) fail_file("cannot read " + quoted + ": " + std::generic_category().message(errno));
  if (text.size() > max_bytes)
    fail_file(quoted + " is more than " + describe_size(max_bytes) + "; a " + std::string(what) + " holds at most that");
  return text;
}

}  // namespace nos::dsl
