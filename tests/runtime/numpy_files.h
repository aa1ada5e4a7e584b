// .npy files and .npz archives built byte by byte for the NumPy data tests: what np.save and
// np.savez write (zip64 local headers included), and every kind of damage to them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace nos::testing {

// The little-endian bytes of `values` (this machine's order; the tests run on little-endian hosts).
template <class T>
std::vector<std::uint8_t> raw_bytes(const std::vector<T>& values) {
  std::vector<std::uint8_t> out(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// A .npy file's bytes: magic, version `major`.0, the header `dict` padded with spaces to a multiple
// of 64 bytes and ended by '\n' (as NumPy writes it), then `data`.
std::vector<std::uint8_t> npy_with_header(const std::string& dict, const std::vector<std::uint8_t>& data,
                                          int major = 1);

// The same with the dict NumPy writes: {'descr': DESCR, 'fortran_order': False, 'shape': (...), }.
std::vector<std::uint8_t> npy_bytes(const std::string& descr, const std::vector<std::int64_t>& shape,
                                    const std::vector<std::uint8_t>& data, bool fortran = false, int major = 1);

struct ZipOptions {
  bool deflate = false;          // np.savez_compressed
  bool zip64_local = true;       // np.savez forces zip64 local headers (sizes in an extra field)
  bool zip64_directory = false;  // sizes in the central directory's zip64 extra field too
  std::uint16_t flags = 0;       // e.g. 1: encrypted
  int method = -1;               // overrides the compression method number
  bool bad_crc = false;
  std::int64_t declared_size = -1;  // >= 0: the uncompressed size the headers declare (a lie)
};

// A zip archive of `entries` (name, contents).
void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries,
               const ZipOptions& options = {});

// x: float32 (rows, features) Gaussian blobs of `classes` classes, y: int64 labels; with x_val and
// y_val of `val_rows` rows when val_rows > 0. Returns `path`.
std::string write_blobs_npz(const std::string& path, int rows, int features, int classes, int val_rows = 0,
                            const ZipOptions& options = {});

// Regression data: x float32 (rows, 2), y float32 (rows,) = x0 - 2 x1, noise-free: an mlp learns it
// quickly. Returns `path`.
std::string write_regression_npz(const std::string& path, int rows);

// Language modelling data: x int16 (rows, length) token ids 0 .. 6, no y; every odd position is the
// previous token + 1 (mod 7), so half the next tokens are predictable. Returns `path`.
std::string write_lm_npz(const std::string& path, int rows, int length);

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace nos::testing
