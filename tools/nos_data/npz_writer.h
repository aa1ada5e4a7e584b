// Writing NumPy's .npz (np.savez's layout: a stored zip of .npy files) for nos-data. Only what a
// data set needs: C-order arrays of little-endian integers, and short strings for names. Torch-free;
// what it writes is read back by runtime/data/npz.h and by np.load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nos::data {

// One array, as a .npy file's bytes: NumPy's format version 1.0, its header padded to 64 bytes.
std::string npy_int16(const std::vector<std::int16_t>& values, const std::vector<std::int64_t>& shape);
std::string npy_int64(const std::vector<std::int64_t>& values, const std::vector<std::int64_t>& shape);
// A 1-d array of ASCII strings (dtype '<Un', n the longest); std::invalid_argument for others.
std::string npy_strings(const std::vector<std::string>& values);

struct NpzEntry {
  std::string array;  // the name np.load gives it: "x" is stored as x.npy
  std::string npy;    // its .npy bytes
};

// The archive's bytes: a zip of stored entries without zip64 (std::invalid_argument past 4 GiB).
std::string npz_bytes(const std::vector<NpzEntry>& entries);

}  // namespace nos::data
