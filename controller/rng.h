// The strategies' random stream: a seeded std::mt19937_64 whose whole state travels in a saved
// state. Draws are computed here rather than by <random>'s distributions, whose algorithms the
// standard leaves to each library (dsl::random_tokens, which the random strategy and evolution's
// initial population use, is the one exception: its sequences are libstdc++'s).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "controller/state_bytes.h"

namespace nos::controller {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}
  std::uint64_t bits() { return engine_(); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  // Uniform in [0, n) without modulo bias (rejection of the top partial range).
  std::uint64_t below(std::uint64_t n);
  std::mt19937_64& engine() { return engine_; }  // for dsl::random_tokens

  void save(ByteWriter& out) const;
  void restore(ByteReader& in);

 private:
  std::mt19937_64 engine_;
};

}  // namespace nos::controller
