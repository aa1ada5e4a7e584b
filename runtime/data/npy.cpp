#include "runtime/data/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/data/idx.h"
#include "runtime/data/input_file.h"
#include "runtime/physical_memory.h"

namespace nos::runtime {
namespace {

constexpr std::uint64_t kMaxHeader = 1 << 16;  // NumPy itself refuses headers over 10000 bytes
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw DataError(name + ": " + what); }

// The header dict, parsed as the Python literal it is, strictly: no other keys, no expressions.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void parse(NpyArray& out, bool& fortran) {
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    while (skip_space(), peek() != '}') {
      std::string key = string_literal("a key");
      expect(':');
      skip_space();
      if (key == "descr") {
        once(seen_descr, key);
        if (peek() == '[')
          bad("'descr' is a list: structured dtypes (record arrays) are not supported; save plain arrays");
        out.descr = string_literal("the 'descr' value");
      } else if (key == "fortran_order") {
        once(seen_fortran, key);
        fortran = boolean();
      } else if (key == "shape") {
        once(seen_shape, key);
        out.shape = shape();
      } else {
        bad(fmt::format("unexpected key '{}' (a .npy header holds 'descr', 'fortran_order' and 'shape')", key));
      }
      skip_space();
      if (peek() == ',')
        ++pos_;
      else if (peek() != '}')
        bad("expected ',' or '}' after the value of '" + key + "'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) bad("text after the closing '}'");
    for (auto [seen, key] : {std::pair{seen_descr, "descr"}, {seen_fortran, "fortran_order"}, {seen_shape, "shape"}})
      if (!seen) bad(fmt::format("no '{}' key", key));
  }

 private:
  [[noreturn]] void bad(const std::string& what) {
    fail(name_, fmt::format("malformed .npy header at character {}: {} (header: {})", pos_, what, printable()));
  }
  std::string printable() const {
    std::string text = s_.substr(0, 200);
    for (char& c : text)
      if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
    return text + (s_.size() > 200 ? "..." : "");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(fmt::format("expected '{}'", c));
    ++pos_;
  }
  void once(bool& seen, const std::string& key) {
    if (seen) bad("'" + key + "' given twice");
    seen = true;
  }
  std::string string_literal(const std::string& what) {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string as " + what);
    std::size_t end = s_.find(quote, ++pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string value = s_.substr(pos_, end - pos_);
    if (value.find('\\') != std::string::npos) bad("escapes in strings are not supported");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    for (auto [word, value] : {std::pair{"True", true}, {"False", false}})
      if (s_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    bad("'fortran_order' must be True or False");
  }
  std::vector<std::int64_t> shape() {
    if (peek() != '(') bad("'shape' must be a tuple such as (60000, 28, 28)");
    ++pos_;
    std::vector<std::int64_t> dims;
    bool comma = false;
    while (skip_space(), peek() != ')') {
      if (!dims.empty() && !comma) bad("expected ',' between the sizes of 'shape'");
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("the sizes of 'shape' must be non-negative integers");
      std::uint64_t size = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        size = size * 10 + static_cast<std::uint64_t>(peek() - '0');
        if (size > kMaxElements) bad(fmt::format("a size of 'shape' is larger than 2^40"));
        ++pos_;
      }
      dims.push_back(static_cast<std::int64_t>(size));
      skip_space();
      comma = peek() == ',';
      if (comma) ++pos_;
    }
    if (dims.size() == 1 && !comma) bad("a 1-element 'shape' is written (N,): (N) is not a tuple");
    ++pos_;
    return dims;
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

// Sets kind and item_size from descr, or refuses it.
void parse_descr(NpyArray& a, const std::string& name) {
  const std::string supported = "NOS reads bool, int8..int64, uint8..uint64, float32 and float64 arrays";
  const std::string& d = a.descr;
  std::optional<int> size;
  if (d.size() >= 3 &&
      std::all_of(d.begin() + 2, d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      d.size() <= 4)
    size = std::stoi(d.substr(2));
  if (d.size() < 3 || std::string("<>|=").find(d[0]) == std::string::npos || !size)
    fail(name, fmt::format("dtype '{}' is not supported: {}", d, supported));
  a.kind = d[1];
  a.item_size = *size;
  bool ok = (a.kind == 'f' && (a.item_size == 4 || a.item_size == 8)) ||
            ((a.kind == 'i' || a.kind == 'u') && std::has_single_bit(static_cast<unsigned>(a.item_size)) &&
             a.item_size <= 8) ||
            (a.kind == 'b' && a.item_size == 1);
  if (!ok) fail(name, fmt::format("dtype '{}' is not supported: {}", d, supported));
  if (d[0] == '=')
    fail(name, fmt::format("dtype '{}': native byte order '=' does not say which order the file has", d));
  if (d[0] == '|' && a.item_size > 1)
    fail(name, fmt::format("dtype '{}': '|' (no byte order) is only valid for 1-byte elements", d));
}

// Column-major (Fortran) elements to row-major ones.
std::vector<std::uint8_t> transpose_fortran(const std::vector<std::uint8_t>& in, const std::vector<std::int64_t>& shape,
                                            int item) {
  std::vector<std::uint8_t> out(in.size());
  const std::size_t k = shape.size();
  std::vector<std::uint64_t> stride(k, 1);  // Fortran strides, in elements
  for (std::size_t j = 1; j < k; ++j) stride[j] = stride[j - 1] * static_cast<std::uint64_t>(shape[j - 1]);
  std::vector<std::int64_t> index(k, 0);
  std::uint64_t offset = 0;
  const std::size_t count = in.size() / static_cast<std::size_t>(item);
  for (std::size_t c = 0; c < count; ++c) {
    std::memcpy(&out[c * static_cast<std::size_t>(item)], &in[offset * static_cast<std::uint64_t>(item)],
                static_cast<std::size_t>(item));
    for (std::size_t j = k; j-- > 0;) {  // the odometer: last index fastest
      offset += stride[j];
      if (++index[j] < shape[j]) break;
      offset -= stride[j] * static_cast<std::uint64_t>(shape[j]);
      index[j] = 0;
    }
  }
  return out;
}

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    check_regular_file(path);
    file_ = std::fopen(path.c_str(), "rb");
    struct stat info {};
    if (!file_ || ::fstat(fileno(file_), &info) != 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    size_ = static_cast<std::uint64_t>(info.st_size);
  }
  ~FileSource() override { std::fclose(file_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  void read(std::vector<std::uint8_t>& out, std::uint64_t n) override {
    std::size_t before = out.size();
    out.resize(before + n);
    std::size_t got = std::fread(out.data() + before, 1, n, file_);
    out.resize(before + got);
    if (std::ferror(file_)) fail(path_, std::string("read error: ") + std::strerror(errno));
  }
  std::uint64_t size() const override { return size_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace

std::uint64_t little_endian(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string npy_shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("({}{})", fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
}

std::int64_t NpyArray::count() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

NpyArray read_npy(ByteSource& in, const std::string& name) {
  std::vector<std::uint8_t> pre;
  in.read(pre, 8);
  static const std::uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (pre.size() < 8 || !std::equal(kMagic, kMagic + 6, pre.begin()))
    fail(name, "not a .npy file: it does not start with the magic \\x93NUMPY");
  int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(name, fmt::format(".npy format version {}.{} is not supported (1.0, 2.0 and 3.0 are)", major, minor));
  const int length_bytes = major == 1 ? 2 : 4;
  in.read(pre, static_cast<std::uint64_t>(length_bytes));
  if (pre.size() < 8u + static_cast<std::size_t>(length_bytes)) fail(name, "truncated .npy header: no header length");
  std::uint64_t header_length = little_endian(&pre[8], length_bytes);
  if (header_length > kMaxHeader)
    fail(name,
         fmt::format(".npy header length {} is over {} bytes: not a plain array's header", header_length, kMaxHeader));
  std::vector<std::uint8_t> header_bytes;
  in.read(header_bytes, header_length);
  if (header_bytes.size() < header_length)
    fail(name, fmt::format("truncated .npy header: {} bytes declared, {} present", header_length, header_bytes.size()));

  NpyArray a;
  bool fortran = false;
  std::string header(header_bytes.begin(), header_bytes.end());
  HeaderParser(header, name).parse(a, fortran);
  parse_descr(a, name);

  std::uint64_t count = 1;
  for (std::int64_t d : a.shape) {
    count *= static_cast<std::uint64_t>(d);
    if (count > kMaxElements)
      fail(name, fmt::format("the .npy header declares shape {}, more than 2^40 elements", npy_shape_text(a.shape)));
  }
  const std::uint64_t bytes = count * static_cast<std::uint64_t>(a.item_size);
  const std::uint64_t data_start = pre.size() + header_length;
  const std::uint64_t present = in.size() > data_start ? in.size() - data_start : 0;
  if (bytes != present)
    fail(name, fmt::format("the .npy header declares shape {} of {}: {} bytes of data, but {} follow the header ({})",
                           npy_shape_text(a.shape), a.descr, bytes, present,
                           bytes > present ? "the file is truncated" : "trailing data"));
  const std::uint64_t memory = physical_memory_bytes();
  if (count > memory / npy_loaded_bytes(a.item_size))
    fail(name,
         fmt::format("the .npy header declares shape {} of {}, {:.1f} GiB once loaded; this machine has {:.1f} GiB "
                     "of memory",
                     npy_shape_text(a.shape), a.descr, double(count * npy_loaded_bytes(a.item_size)) / double(1 << 30),
                     double(memory) / double(1 << 30)));
  // In chunks, so that a compressed entry whose stream ends early costs what it holds, not what it declares.
  constexpr std::uint64_t kChunk = 16 << 20;
  for (std::size_t before = 0; a.data.size() < bytes; before = a.data.size()) {
    in.read(a.data, std::min(kChunk, bytes - a.data.size()));
    if (a.data.size() == before) break;
  }
  if (a.data.size() < bytes)
    fail(name, fmt::format("expected {} bytes of array data, got {} (truncated)", bytes, a.data.size()));

  const bool big = a.descr[0] == '>';
  if (a.item_size > 1 && big != (std::endian::native == std::endian::big))
    for (std::size_t i = 0; i < a.data.size(); i += static_cast<std::size_t>(a.item_size))
      std::reverse(a.data.begin() + static_cast<std::ptrdiff_t>(i),
                   a.data.begin() + static_cast<std::ptrdiff_t>(i) + a.item_size);
  if (fortran && a.shape.size() > 1) a.data = transpose_fortran(a.data, a.shape, a.item_size);
  return a;
}

NpyArray read_npy(const std::string& path) {
  FileSource in(path);
  return read_npy(in, path);
}

}  // namespace nos::runtime
