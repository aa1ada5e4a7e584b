#include "compiler/structural_hash.h"

#include <array>
#include <bit>
#include <utility>

#include "compiler/passes/graph.h"

namespace nos::ir {
namespace {

// A strong 64-bit mix of two words (splitmix64's finalizer over a combination).
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  std::uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t text_hash(std::string_view text) {
  Fnv1a h;
  h.add(text);
  return h.value();
}

// The hash of each op's spelling, computed once.
std::uint64_t op_hash(Op op) {
  static const auto table = [] {
    std::array<std::uint64_t, kNumOps> t{};
    for (int k = 0; k < kNumOps; ++k) t[k] = text_hash(name(static_cast<Op>(k)));
    return t;
  }();
  return table.at(static_cast<std::size_t>(op));
}

std::uint64_t slot_hash(const StateSlot& s) {
  return mix(mix(static_cast<std::uint64_t>(s.power), std::bit_cast<std::uint32_t>(s.beta)), s.bias_correction);
}

std::uint64_t lookup_hash(const LookupTable& t) {
  std::uint64_t h = 0;
  for (float x : {t.negative, t.zero, t.positive, t.nan}) h = mix(h, std::bit_cast<std::uint32_t>(x));
  return h;
}

// What the op's `index` field means, as a stable number: slot contents, a step scalar's name, a
// lookup table's values, or a random stream (reserved numbers, or derived from a node hash).
std::uint64_t index_hash(const Function& f, const Instr& in) {
  switch (in.op) {
    case Op::Mavg: return slot_hash(f.states.at(in.index));
    case Op::Step: return text_hash(name(static_cast<StepScalar>(in.index)));
    case Op::Lookup: return lookup_hash(f.lookups.at(in.index));
    default: return in.index;
  }
}

}  // namespace

void Fnv1a::add_bytes(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash_ = (hash_ ^ bytes[i]) * 0x100000001B3ull;
}

void Fnv1a::add(std::string_view text) {
  add(static_cast<std::uint64_t>(text.size()));
  add_bytes(text.data(), text.size());
}

void Fnv1a::add(std::uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  add_bytes(bytes, sizeof bytes);
}

std::uint64_t node_hash(const Function& f, const Instr& raw, std::span<const std::uint64_t> hashes) {
  Instr in = without_dont_cares(raw);
  std::uint64_t x = mix(op_hash(in.op), std::bit_cast<std::uint32_t>(in.imm));
  if (reads_index(in.op)) x = mix(x, index_hash(f, in));
  std::uint64_t a = arity(in.op) > 0 ? hashes[in.args[0]] : 0;
  std::uint64_t b = arity(in.op) > 1 ? hashes[in.args[1]] : 0;
  if (is_function(in.op) && dsl::info(fn_of(in.op)).commutative && b < a) std::swap(a, b);
  return mix(mix(x, a), b);
}

std::vector<std::uint64_t> structural_hashes(const Function& f) {
  std::vector<std::uint64_t> h(f.body.size());
  for (std::size_t i = 0; i < f.body.size(); ++i) h[i] = node_hash(f, f.body[i], h);
  return h;
}

}  // namespace nos::ir
