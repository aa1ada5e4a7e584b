#include "controller/state_bytes.h"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace nos::controller {
namespace {

constexpr std::string_view kMagic = "NOS-STRATEGY";
constexpr std::uint64_t kVersion = 1;

}  // namespace

void bad_state(const std::string& what) { throw std::invalid_argument("saved strategy state: " + what); }

ByteWriter::ByteWriter(std::string_view kind) {
  bytes_.append(kMagic);
  u64(kVersion);
  str(kind);
}

void ByteWriter::u64(std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void ByteWriter::f64(double value) { u64(std::bit_cast<std::uint64_t>(value)); }

void ByteWriter::str(std::string_view value) {
  u64(value.size());
  bytes_.append(value);
}

void ByteWriter::floats(std::span<const float> values) {
  u64(values.size());
  for (float v : values) {
    std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  }
}

ByteReader::ByteReader(std::string_view bytes, std::string_view kind) : bytes_(bytes) {
  if (bytes_.substr(0, kMagic.size()) != kMagic) bad_state("not a NOS strategy state");
  at_ = kMagic.size();
  if (std::uint64_t version = u64(); version != kVersion)
    bad_state("format version " + std::to_string(version) + ", this build reads version " + std::to_string(kVersion));
  if (std::string saved = str(); saved != kind)
    bad_state("it belongs to strategy '" + saved + "', not '" + std::string(kind) + "'");
}

std::string_view ByteReader::take(std::size_t n, const char* what) {
  if (bytes_.size() - at_ < n) bad_state(std::string("truncated (reading ") + what + ")");
  std::string_view out = bytes_.substr(at_, n);
  at_ += n;
  return out;
}

std::uint64_t ByteReader::u64() {
  std::string_view b = take(8, "a number");
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
  return value;
}

double ByteReader::f64() { return std::bit_cast<double>(u64()); }

std::string ByteReader::str() {
  std::uint64_t n = u64();
  if (n > bytes_.size()) bad_state("truncated (reading a string)");
  return std::string(take(n, "a string"));
}

std::vector<float> ByteReader::floats() {
  std::uint64_t n = u64();
  if (n > bytes_.size() / 4) bad_state("truncated (reading an array)");
  std::string_view b = take(n * 4, "an array");
  std::vector<float> values(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[4 * k + i])) << (8 * i);
    values[k] = std::bit_cast<float>(bits);
  }
  return values;
}

void ByteReader::expect_end() const {
  if (at_ != bytes_.size()) bad_state(std::to_string(bytes_.size() - at_) + " unexpected trailing bytes");
}

void write_tokens(ByteWriter& out, const dsl::TokenSequence& tokens) {
  out.u64(tokens.size());
  for (const dsl::Group& group : tokens)
    for (int position = 0; position < 5; ++position) out.u64(group[position]);
}

dsl::TokenSequence read_tokens(ByteReader& in) {
  std::uint64_t groups = in.u64();
  if (groups == 0 || groups > 4096) bad_state("a token sequence of " + std::to_string(groups) + " groups");
  dsl::TokenSequence tokens(groups);
  for (std::uint64_t g = 0; g < groups; ++g)
    for (int position = 0; position < 5; ++position) {
      std::uint64_t id = in.u64();
      if (id >= static_cast<std::uint64_t>(dsl::choices(static_cast<int>(g), position)))
        bad_state("an invalid token id " + std::to_string(id) + " in group " + std::to_string(g + 1));
      tokens[g][position] = static_cast<std::uint16_t>(id);
    }
  return tokens;
}

}  // namespace nos::controller
