// NumPy's .npz container: a zip archive of .npy files, one per array ("x.npy" for np.savez(f, x=...)),
// stored (np.savez) or deflated (np.savez_compressed). Torch-free. The central directory is read
// from the end record, bounded and checked (entries within the file, no overlaps past it); entries
// are read from it, not from the local headers (NumPy writes zip64 local headers whatever the size).
// Refused, by name: archives that need the zip64 end record (over 4 GiB or 65535 entries), split
// archives, encrypted entries, methods other than stored and deflate, CRC mismatches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/npy.h"

namespace nos::runtime {

class NpzArchive {
 public:
  // Reads and checks the central directory of the regular file `path`; throws DataError.
  explicit NpzArchive(const std::string& path);

  // Whether the archive has an entry `array`.npy.
  bool has(const std::string& array) const;
  // Reads `array`.npy (read_npy's checks; messages name "PATH:array.npy"); throws DataError when
  // there is none, naming what the archive holds.
  NpyArray read(const std::string& array) const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    std::string name;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
  };
  std::string path_;
  std::uint64_t file_size_ = 0, directory_offset_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace nos::runtime
