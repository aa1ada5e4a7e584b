// NumPy's .npy format (versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a header
// length, then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} and the
// raw elements. Torch-free; every error names the file (or "archive.npz:x.npy"). The header is
// parsed strictly (those three keys, once each, literal values) and checked before any data is
// read: the data it declares must be exactly what the file holds, and must fit in this machine's
// memory (runtime/physical_memory.h), so memory follows the declared shape, never more.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace nos::runtime {

// What a .npy reader reads from: a regular file, or one entry of a zip archive (npz.h).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Appends up to `n` more bytes to `out`, fewer only at the end. Throws DataError on a read error.
  virtual void read(std::vector<std::uint8_t>& out, std::uint64_t n) = 0;
  // All the bytes the source holds: the file's size, the entry's uncompressed size.
  virtual std::uint64_t size() const = 0;
};

struct NpyArray {
  char kind = 0;                    // 'f' float, 'i' signed or 'u' unsigned integer, 'b' bool
  int item_size = 0;                // bytes per element: 1, 2, 4 or 8 (floats: 4 or 8)
  std::string descr;                // as the file says, e.g. "<f4", for messages
  std::vector<std::int64_t> shape;  // empty for a 0-d array
  std::vector<std::uint8_t> data;   // the elements in C (row-major) order, in this machine's byte order

  std::int64_t count() const;  // product of shape
};

// The bytes one element may cost while loaded: the element, a transposed copy of a Fortran-order
// array, and the float32 or int64 the data set keeps of it.
inline std::uint64_t npy_loaded_bytes(int item_size) { return 2 * std::uint64_t(item_size) + 8; }

// The unsigned little-endian integer of `bytes` bytes at `p` (.npy and zip headers).
std::uint64_t little_endian(const std::uint8_t* p, int bytes);
// A shape as Python writes the tuple: (6, 2), (6,), ().
std::string npy_shape_text(const std::vector<std::int64_t>& shape);

// Reads the .npy array from `in`; `name` starts every message. Big-endian data is swapped and
// Fortran-order data transposed to C order. Refused: other magic or versions, headers that are not
// exactly the dict above, dtypes other than bool, (u)int8..64, float32/64 ('<', '>', or '|' for
// one byte), object/structured/string dtypes, declared data larger or smaller than the source.
NpyArray read_npy(ByteSource& in, const std::string& name);
// The same for a regular file (input_file.h).
NpyArray read_npy(const std::string& path);

// Calls f(const T* elements, count) with T the array's C type (bool as std::uint8_t).
template <class F>
void visit_npy(const NpyArray& a, F&& f) {
  auto as = [&](auto* typed) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(typed)>>;
    f(reinterpret_cast<const T*>(a.data.data()), a.count());
  };
  switch (a.kind) {
    case 'f':
      if (a.item_size == 4) return as(static_cast<const float*>(nullptr));
      return as(static_cast<const double*>(nullptr));
    case 'i':
      if (a.item_size == 1) return as(static_cast<const std::int8_t*>(nullptr));
      if (a.item_size == 2) return as(static_cast<const std::int16_t*>(nullptr));
      if (a.item_size == 4) return as(static_cast<const std::int32_t*>(nullptr));
      return as(static_cast<const std::int64_t*>(nullptr));
    default:  // 'u' and 'b'
      if (a.item_size == 1) return as(static_cast<const std::uint8_t*>(nullptr));
      if (a.item_size == 2) return as(static_cast<const std::uint16_t*>(nullptr));
      if (a.item_size == 4) return as(static_cast<const std::uint32_t*>(nullptr));
      return as(static_cast<const std::uint64_t*>(nullptr));
  }
}

}  // namespace nos::runtime
