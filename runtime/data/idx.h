// IDX files (the MNIST format), plain or gzipped: a big-endian header (two zero bytes, a type
// byte, the number of dimensions, one 32-bit size per dimension) followed by the data.
// Torch-free; every error names the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nos::runtime {

// Bad or unreadable data: the message starts with the file's path. An invalid input (exit 1 in
// the tools), hence std::invalid_argument.
class DataError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct IdxArray {
  std::vector<std::int64_t> dims;  // e.g. {60000, 28, 28}
  std::vector<std::uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an unsigned-byte IDX file (type 0x08, the type of every MNIST-family file) with
// `expected_dims` dimensions (0 = any). Gzip is recognised by its magic bytes, not by the name.
IdxArray read_idx(const std::string& path, int expected_dims = 0);

// The bytes of a file, decompressed if it is gzipped. Throws DataError naming the path.
std::vector<std::uint8_t> read_maybe_gzipped(const std::string& path);

}  // namespace nos::runtime
