#include "test_data_files.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>

namespace nos::testing {

std::string temp_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(NOS_BINARY_DIR) / "test-tmp" / std::to_string(::getpid()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_idx(const std::string& path, const std::vector<std::int64_t>& dims, const std::vector<std::uint8_t>& data,
               bool gzip) {
  std::vector<std::uint8_t> bytes{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::int64_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (!gzip) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return;
  }
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file || gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()) ||
      gzclose(file) != Z_OK)
    throw std::runtime_error("cannot write " + path);
}

void write_idx_zeros(const std::string& path, const std::vector<std::int64_t>& dims, std::uint64_t zero_bytes, bool gzip) {
  write_idx(path, dims, {}, false);  // the header alone, then the zeros
  if (!gzip) {
    std::filesystem::resize_file(path, std::filesystem::file_size(path) + zero_bytes);  // sparse: no blocks written
    return;
  }
  std::vector<std::uint8_t> header = read_bytes(path);
  gzFile file = gzopen(path.c_str(), "wb1");
  bool ok = file && gzwrite(file, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size());
  const std::vector<std::uint8_t> zeros(1 << 20, 0);
  for (std::uint64_t left = zero_bytes; ok && left > 0;) {
    auto n = static_cast<unsigned>(std::min<std::uint64_t>(left, zeros.size()));
    ok = gzwrite(file, zeros.data(), n) == static_cast<int>(n);
    left -= n;
  }
  if (!file || gzclose(file) != Z_OK || !ok) throw std::runtime_error("cannot write " + path);
}

void write_idx_pair(const std::string& prefix, std::int64_t n, std::int64_t h, std::int64_t w, int classes, bool gzip) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> images, labels;
  for (std::int64_t i = 0; i < n; ++i) {
    int label = static_cast<int>(i % classes);
    labels.push_back(static_cast<std::uint8_t>(label));
    for (std::int64_t p = 0; p < h * w; ++p)
      images.push_back(static_cast<std::uint8_t>(label * 200 / std::max(1, classes - 1) + rng() % 40));
  }
  std::string ext = gzip ? ".gz" : "";
  write_idx(prefix + "-images-idx3-ubyte" + ext, {n, h, w}, images, gzip);
  write_idx(prefix + "-labels-idx1-ubyte" + ext, {n}, labels, gzip);
}

std::string write_blobs_csv(const std::string& path, int rows, int features, int classes, bool header,
                            std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::ostringstream text;
  if (header) {
    for (int f = 0; f < features; ++f) text << "x" << f << ",";
    text << "label\n";
  }
  for (int r = 0; r < rows; ++r) {
    int label = r % classes;
    for (int f = 0; f < features; ++f) text << (f % classes == label ? 3.0 : 0.0) + 10.0 * f + noise(rng) << ",";
    text << label << "\n";
  }
  write_text(path, text.str());
  return path;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace nos::testing
