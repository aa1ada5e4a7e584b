// Stable hashes of IR computations: what canonicalization sorts by, what a drop's random stream
// is derived from, and what the canonical hash (the identity a search stores) is made of.
//
// Why stable: these hashes are written to search databases and kernel caches and read back by
// later versions of NOS. They are built only from spellings (vocabulary names, leaf names, step
// scalar names), immediates' bits and state-slot contents — never from enum values, instruction
// numbering or container order — so reordering or extending the vocabulary changes no identity.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "compiler/ir.h"

namespace nos::ir {

// 64-bit FNV-1a over bytes: the one byte-level hash of the compiler's identities.
class Fnv1a {
 public:
  void add_bytes(const void* data, std::size_t size);
  void add(std::string_view text);  // length-prefixed, so "ab","c" differs from "a","bc"
  void add(std::uint64_t value);    // little-endian bytes, whatever the host
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xCBF29CE484222325ull;
};

// The hash of instruction `in`'s computation, given the structural hashes of the instructions
// before it (`hashes[k]` for every argument k). Commutative functions hash their arguments in
// either order alike; fields an op does not read are ignored.
std::uint64_t node_hash(const Function& f, const Instr& in, std::span<const std::uint64_t> hashes);

// node_hash of every instruction of f, in body order.
std::vector<std::uint64_t> structural_hashes(const Function& f);

}  // namespace nos::ir
