#include "numpy_files.h"

#include <zlib.h>

#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>

namespace nos::testing {
namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::vector<std::uint8_t> raw_deflate(const std::vector<std::uint8_t>& in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::vector<std::uint8_t> out(deflateBound(&z, in.size()));
  z.next_in = const_cast<std::uint8_t*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

std::vector<std::uint8_t> npy_with_header(const std::string& dict, const std::vector<std::uint8_t>& data, int major) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<std::uint8_t> out{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  put(out, header.size(), major == 1 ? 2 : 4);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<std::uint8_t> npy_bytes(const std::string& descr, const std::vector<std::int64_t>& shape,
                                    const std::vector<std::uint8_t>& data, bool fortran, int major) {
  std::string dims;
  for (std::int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1)
    dims.resize(dims.size() - 2);
  else if (shape.size() == 1)
    dims.resize(dims.size() - 1);  // (N,)
  return npy_with_header(
      "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + dims + "), }",
      data, major);
}

void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries,
               const ZipOptions& options) {
  std::vector<std::uint8_t> out, directory;
  for (const auto& [name, contents] : entries) {
    std::vector<std::uint8_t> stored = options.deflate ? raw_deflate(contents) : contents;
    auto crc = static_cast<std::uint32_t>(crc32(0, contents.data(), static_cast<uInt>(contents.size())));
    if (options.bad_crc) crc ^= 1;
    const std::uint16_t method = options.method >= 0 ? static_cast<std::uint16_t>(options.method)
                                 : options.deflate   ? 8
                                                     : 0;
    const std::uint64_t offset = out.size();
    const std::uint64_t size =
        options.declared_size >= 0 ? static_cast<std::uint64_t>(options.declared_size) : contents.size();
    // Local header.
    put(out, 0x04034b50, 4);
    put(out, options.zip64_local ? 45 : 20, 2);
    put(out, options.flags, 2);
    put(out, method, 2);
    put(out, 0, 4);  // time, date
    put(out, crc, 4);
    put(out, options.zip64_local ? 0xFFFFFFFF : stored.size(), 4);
    put(out, options.zip64_local ? 0xFFFFFFFF : size, 4);
    put(out, name.size(), 2);
    put(out, options.zip64_local ? 20 : 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    if (options.zip64_local) {
      put(out, 1, 2), put(out, 16, 2), put(out, size, 8), put(out, stored.size(), 8);
    }
    out.insert(out.end(), stored.begin(), stored.end());
    // Its central directory entry.
    const bool z64 = options.zip64_directory;
    put(directory, 0x02014b50, 4);
    put(directory, 45, 2), put(directory, z64 ? 45 : 20, 2);
    put(directory, options.flags, 2);
    put(directory, method, 2);
    put(directory, 0, 4);
    put(directory, crc, 4);
    put(directory, z64 ? 0xFFFFFFFF : stored.size(), 4);
    put(directory, z64 ? 0xFFFFFFFF : size, 4);
    put(directory, name.size(), 2);
    put(directory, z64 ? 28 : 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 2),
        put(directory, 0, 4);  // comment, disk, attributes
    put(directory, z64 ? 0xFFFFFFFF : offset, 4);
    directory.insert(directory.end(), name.begin(), name.end());
    if (z64)
      put(directory, 1, 2), put(directory, 24, 2), put(directory, size, 8), put(directory, stored.size(), 8),
          put(directory, offset, 8);
  }
  const std::uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put(out, 0x06054b50, 4);
  put(out, 0, 2), put(out, 0, 2);
  put(out, entries.size(), 2), put(out, entries.size(), 2);
  put(out, directory.size(), 4);
  put(out, directory_offset, 4);
  put(out, 0, 2);
  write_bytes(path, out);
}

std::string write_blobs_npz(const std::string& path, int rows, int features, int classes, int val_rows,
                            const ZipOptions& options) {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  auto make = [&](int n, std::vector<float>& x, std::vector<std::int64_t>& y) {
    for (int r = 0; r < n; ++r) {
      int label = r % classes;
      y.push_back(label);
      for (int f = 0; f < features; ++f) x.push_back((f % classes == label ? 3.0f : 0.0f) + noise(rng));
    }
  };
  std::vector<float> x, x_val;
  std::vector<std::int64_t> y, y_val;
  make(rows, x, y);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> entries{
      {"x.npy", npy_bytes("<f4", {rows, features}, raw_bytes(x))}, {"y.npy", npy_bytes("<i8", {rows}, raw_bytes(y))}};
  if (val_rows > 0) {
    make(val_rows, x_val, y_val);
    entries.push_back({"x_val.npy", npy_bytes("<f4", {val_rows, features}, raw_bytes(x_val))});
    entries.push_back({"y_val.npy", npy_bytes("<i8", {val_rows}, raw_bytes(y_val))});
  }
  write_zip(path, entries, options);
  return path;
}

std::string write_regression_npz(const std::string& path, int rows) {
  std::vector<float> x, y;
  for (int i = 0; i < rows; ++i) {
    float a = std::sin(0.37f * float(i)), b = std::cos(0.91f * float(i));
    x.push_back(a), x.push_back(b), y.push_back(a - 2 * b);
  }
  write_zip(path, {{"x.npy", npy_bytes("<f4", {rows, 2}, raw_bytes(x))}, {"y.npy", npy_bytes("<f4", {rows}, raw_bytes(y))}});
  return path;
}

std::string write_lm_npz(const std::string& path, int rows, int length) {
  std::vector<std::int16_t> x;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < length; ++j) x.push_back(j % 2 == 0 ? std::int16_t((i * 5 + j * 3) % 7) : std::int16_t((x.back() + 1) % 7));
  write_zip(path, {{"x.npy", npy_bytes("<i2", {rows, length}, raw_bytes(x))}});
  return path;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace nos::testing
