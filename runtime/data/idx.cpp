#include "runtime/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

namespace nos::runtime {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw DataError(path + ": " + what); }

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

const char* idx_type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

}  // namespace

std::vector<std::uint8_t> read_maybe_gzipped(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, expected a file");
  // gzread passes a file without the gzip magic through unchanged, so one path reads both.
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  gzbuffer(file, 1 << 17);
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[1 << 16];
  while (true) {
    int n = gzread(file, chunk, sizeof chunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail(path, std::string(code == Z_ERRNO ? std::strerror(errno) : message) +
                     " (corrupt or truncated gzip data after " + std::to_string(bytes.size()) + " bytes)");
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  // A gzip stream cut short reads as a clean end of file; gzerror still reports it.
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END)
    fail(path, std::string(message) + " (corrupt or truncated gzip data after " + std::to_string(bytes.size()) +
                   " bytes)");
  return bytes;
}

IdxArray read_idx(const std::string& path, int expected_dims) {
  std::vector<std::uint8_t> bytes = read_maybe_gzipped(path);
  if (bytes.size() < 4)
    fail(path, "not an IDX file: " + std::to_string(bytes.size()) + " bytes, shorter than the 4-byte magic number");
  if (bytes[0] != 0 || bytes[1] != 0)
    fail(path, "not an IDX file: the magic number must start with two zero bytes");
  std::uint8_t type = bytes[2];
  int ndims = bytes[3];
  if (type != kUnsignedByte)
    fail(path, "IDX element type 0x" + std::string(1, "0123456789ABCDEF"[type >> 4]) +
                   std::string(1, "0123456789ABCDEF"[type & 15]) + " (" + idx_type_name(type) +
                   ") is not supported; only unsigned byte (0x08) is");
  if (ndims == 0) fail(path, "IDX file with zero dimensions");
  if (expected_dims && ndims != expected_dims)
    fail(path, "expected an IDX file with " + std::to_string(expected_dims) + " dimensions, got " +
                   std::to_string(ndims));
  std::size_t header = 4 + 4 * static_cast<std::size_t>(ndims);
  if (bytes.size() < header)
    fail(path, "truncated IDX header: expected " + std::to_string(header) + " bytes, got " +
                   std::to_string(bytes.size()));

  IdxArray array;
  std::uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    std::uint32_t size = big_endian_u32(&bytes[4 + 4 * d]);
    array.dims.push_back(size);
    count *= size;
    if (count > (std::uint64_t{1} << 40)) fail(path, "IDX dimensions describe more than 2^40 elements");
  }
  std::uint64_t got = bytes.size() - header;
  std::string what = ndims == 1 ? "labels" : "images";
  if (got < count)
    fail(path, "expected " + std::to_string(count) + " bytes of " + what + ", got " + std::to_string(got) +
                   " (the file is truncated)");
  if (got > count)
    fail(path, "expected " + std::to_string(count) + " bytes of " + what + ", got " + std::to_string(got) +
                   " (trailing data after the IDX array)");
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

}  // namespace nos::runtime
