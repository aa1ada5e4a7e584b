#include "controller/rng.h"

#include <sstream>

#include <fmt/ostream.h>

namespace nos::controller {

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) return 0;
  std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // draws at or above `limit` would favour small values
  std::uint64_t x;
  do x = engine_();
  while (x >= limit);
  return x % n;
}

// The engine's textual form is its whole state (312 words and the index), exact by the standard;
// the standard offers only stream operators to write and read it.
void Rng::save(ByteWriter& out) const { out.str(fmt::format("{}", fmt::streamed(engine_))); }

void Rng::restore(ByteReader& in) {
  std::istringstream text(in.str());
  text >> engine_;
  if (!text) bad_state("random stream is damaged");
}

}  // namespace nos::controller
