// IDX files (the MNIST format), plain or gzipped: a big-endian header (two zero bytes, a type
// byte, the number of dimensions, one 32-bit size per dimension) followed by the data.
// Torch-free; every error names the file and what is wrong with it. The header is checked before
// the data is read, and no more than it promises is read (or inflated): a gzip bomb behind a small
// header costs one byte past the promised data, and a header that promises more than this
// machine's memory is refused.
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
// Refused: anything but a regular file (input_file.h), and a header whose array, with the float32
// copy load_dataset makes of it (5 bytes an element), would not fit in physical memory.
IdxArray read_idx(const std::string& path, int expected_dims = 0);

}  // namespace nos::runtime
