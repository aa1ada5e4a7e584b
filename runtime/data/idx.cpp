#include "runtime/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "runtime/data/input_file.h"
#include "runtime/physical_memory.h"

namespace nos::runtime {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
// The bytes one element costs once loaded: the IDX byte and load_dataset's float32 feature.
constexpr std::uint64_t kLoadedBytesPerElement = 1 + 4;

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

// A file read through zlib, which passes a file without the gzip magic through unchanged, so one
// reader takes both; it inflates only as much as it is asked for.
class MaybeGzipped {
 public:
  explicit MaybeGzipped(const std::string& path) : path_(path) {
    check_regular_file(path);
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
    gzbuffer(file_, 1 << 17);
  }
  ~MaybeGzipped() { gzclose(file_); }
  MaybeGzipped(const MaybeGzipped&) = delete;
  MaybeGzipped& operator=(const MaybeGzipped&) = delete;

  // Appends up to `n` more bytes to `out`, fewer at the end of the file. Throws DataError for
  // a read error or corrupt gzip data.
  void read(std::vector<std::uint8_t>& out, std::uint64_t n) {
    constexpr std::uint64_t kChunk = 1 << 20;
    const std::uint64_t target = out.size() + n;
    while (out.size() < target) {
      std::size_t before = out.size();
      auto want = static_cast<unsigned>(std::min(kChunk, target - before));
      out.resize(before + want);  // grows with what is read, never to what a header merely claims
      int got = gzread(file_, out.data() + before, want);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file_, &code);
        fail(path_, fmt::format("{} (corrupt or truncated gzip data after {} bytes)",
                                code == Z_ERRNO ? std::strerror(errno) : message, before));
      }
      out.resize(before + static_cast<std::size_t>(got));
      if (got == 0) break;
    }
    // A gzip stream cut short reads as a clean end of file; gzerror still reports it.
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code != Z_OK && code != Z_STREAM_END)
      fail(path_, fmt::format("{} (corrupt or truncated gzip data after {} bytes)", message, out.size()));
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

}  // namespace

IdxArray read_idx(const std::string& path, int expected_dims) {
  MaybeGzipped in(path);
  std::vector<std::uint8_t> header;
  in.read(header, 4);
  if (header.size() < 4)
    fail(path, "not an IDX file: " + std::to_string(header.size()) + " bytes, shorter than the 4-byte magic number");
  if (header[0] != 0 || header[1] != 0)
    fail(path, "not an IDX file: the magic number must start with two zero bytes");
  std::uint8_t type = header[2];
  int ndims = header[3];
  if (type != kUnsignedByte)
    fail(path, "IDX element type 0x" + std::string(1, "0123456789ABCDEF"[type >> 4]) +
                   std::string(1, "0123456789ABCDEF"[type & 15]) + " (" + idx_type_name(type) +
                   ") is not supported; only unsigned byte (0x08) is");
  if (ndims == 0) fail(path, "IDX file with zero dimensions");
  if (expected_dims && ndims != expected_dims)
    fail(path, "expected an IDX file with " + std::to_string(expected_dims) + " dimensions, got " +
                   std::to_string(ndims));
  std::size_t header_size = 4 + 4 * static_cast<std::size_t>(ndims);
  in.read(header, header_size - 4);
  if (header.size() < header_size)
    fail(path, "truncated IDX header: expected " + std::to_string(header_size) + " bytes, got " +
                   std::to_string(header.size()));

  IdxArray array;
  std::uint64_t count = 1;
  std::string shape;
  for (int d = 0; d < ndims; ++d) {
    std::uint32_t size = big_endian_u32(&header[4 + 4 * static_cast<std::size_t>(d)]);
    array.dims.push_back(size);
    shape += (d ? " x " : "") + std::to_string(size);
    count *= size;
    if (count > (std::uint64_t{1} << 40)) fail(path, fmt::format("the IDX header declares {} ..., more than 2^40 elements", shape));
  }
  // Checked before a byte of data is read: memory follows the header, and the header is bounded.
  const std::uint64_t memory = physical_memory_bytes();
  if (count > memory / kLoadedBytesPerElement)
    fail(path, fmt::format("the IDX header declares {} = {} elements, {:.1f} GiB once loaded; this machine has "
                           "{:.1f} GiB of memory",
                           shape, count, double(count * kLoadedBytesPerElement) / double(1 << 30),
                           double(memory) / double(1 << 30)));
  // One byte more than promised tells trailing data from the end, without inflating the rest.
  in.read(array.data, count + 1);
  std::uint64_t got = array.data.size();
  std::string what = ndims == 1 ? "labels" : "images";
  if (got < count)
    fail(path, "expected " + std::to_string(count) + " bytes of " + what + ", got " + std::to_string(got) +
                   " (the file is truncated)");
  if (got > count)
    fail(path, "expected " + std::to_string(count) + " bytes of " + what + ", got more (trailing data after the IDX array)");
  return array;
}

}  // namespace nos::runtime
