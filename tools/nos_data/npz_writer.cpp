#include "tools/nos_data/npz_writer.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>
#include <zlib.h>

namespace nos::data {
namespace {

void put16(std::string& out, std::uint32_t v) {
  out.push_back(char(v & 0xff));
  out.push_back(char((v >> 8) & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return text + ")";
}

// Magic, version 1.0, the header's length, the header dict padded with spaces so that the data
// starts at a multiple of 64 bytes (as NumPy writes it), then the data.
std::string npy(const std::string& descr, const std::vector<std::int64_t>& shape, const void* data, std::size_t bytes) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape_text(shape));
  const std::size_t prefix = 10;
  std::size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<std::uint32_t>(dict.size()));
  out += dict;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

template <class T>
std::string npy_little(const char* descr, const std::vector<T>& values, const std::vector<std::int64_t>& shape) {
  std::string out = npy(descr, shape, nullptr, 0);
  for (T v : values) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (std::size_t b = 0; b < sizeof(T); ++b) out.push_back(char((u >> (8 * b)) & 0xff));
  }
  return out;
}

std::uint32_t crc_of(const std::string& bytes) {
  return static_cast<std::uint32_t>(
      crc32_z(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
}

constexpr std::uint32_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: the same bytes on every run

}  // namespace

std::string npy_int16(const std::vector<std::int16_t>& values, const std::vector<std::int64_t>& shape) {
  return npy_little("<i2", values, shape);
}

std::string npy_int64(const std::vector<std::int64_t>& values, const std::vector<std::int64_t>& shape) {
  return npy_little("<i8", values, shape);
}

std::string npy_strings(const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const std::string& v : values) {
    for (unsigned char c : v)
      if (c >= 0x80) throw std::invalid_argument(fmt::format("'{}' is not ASCII", v));
    width = std::max(width, v.size());
  }
  std::string out = npy(fmt::format("<U{}", width), {static_cast<std::int64_t>(values.size())}, nullptr, 0);
  for (const std::string& v : values)
    for (std::size_t i = 0; i < width; ++i) put32(out, i < v.size() ? static_cast<unsigned char>(v[i]) : 0);
  return out;
}

std::string npz_bytes(const std::vector<NpzEntry>& entries) {
  std::string out, directory;
  for (const NpzEntry& e : entries) {
    const std::string name = e.array + ".npy";
    if (out.size() + e.npy.size() + name.size() + 30 > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("the archive would exceed 4 GiB (zip64 is not written)");
    const std::uint32_t crc = crc_of(e.npy), size = static_cast<std::uint32_t>(e.npy.size());
    const auto offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20), put16(out, 0), put16(out, 0), put16(out, 0), put16(out, kDosDate);
    put32(out, crc), put32(out, size), put32(out, size);
    put16(out, static_cast<std::uint32_t>(name.size())), put16(out, 0);
    out += name;
    out += e.npy;
    put32(directory, 0x02014b50);
    put16(directory, 20), put16(directory, 20), put16(directory, 0), put16(directory, 0), put16(directory, 0);
    put16(directory, kDosDate);
    put32(directory, crc), put32(directory, size), put32(directory, size);
    put16(directory, static_cast<std::uint32_t>(name.size()));
    put16(directory, 0), put16(directory, 0), put16(directory, 0), put16(directory, 0);
    put32(directory, 0), put32(directory, offset);
    directory += name;
  }
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out += directory;
  put32(out, 0x06054b50);
  put16(out, 0), put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size())), put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(directory.size())), put32(out, directory_offset);
  put16(out, 0);
  return out;
}

}  // namespace nos::data
