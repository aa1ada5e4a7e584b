#include "controller/search/probes.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "compiler/interpreter.h"
#include "compiler/passes.h"
#include "dsl/random.h"

namespace nos::search {
namespace {

// [step][element]
using Grid = std::vector<std::vector<float>>;

struct Sequence {
  Grid g, w;
};

enum Kind { NoisyDescent, PureNoise, Oscillating, Growing, kKinds };

// Standard normals from the counter-based generator: the same probes on every platform, so stored
// fingerprints stay comparable.
float normal(std::uint64_t seed, std::uint32_t step, std::uint32_t kind, std::uint32_t stream, std::size_t element) {
  return nos_normal(nos_rng_key(seed, step, kind, stream), element);
}

std::vector<Sequence> make_sequences(const ProbeConfig& c, std::uint64_t gradient_seed) {
  const std::size_t n = static_cast<std::size_t>(c.elements);
  std::vector<Sequence> sequences(kKinds);
  for (std::uint32_t kind = 0; kind < kKinds; ++kind) {
    Sequence& s = sequences[kind];
    std::vector<float> scale(n), mean(n), w0(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Gradient scales from 1e-4 to 1 over the elements: small and large gradients in one probe.
      scale[i] = static_cast<float>(std::pow(10.0, -4.0 + 4.0 * static_cast<double>(i) / static_cast<double>(n > 1 ? n - 1 : 1)));
      mean[i] = scale[i] * normal(gradient_seed, 0, kind, 0, i);
      w0[i] = normal(c.seed, 0, kind, 1, i);  // weights never depend on the gradient seed
    }
    for (int t = 1; t <= c.steps; ++t) {
      std::vector<float> g(n), w(n);
      for (std::size_t i = 0; i < n; ++i) {
        float noise = scale[i] * normal(gradient_seed, static_cast<std::uint32_t>(t), kind, 2, i);
        switch (kind) {
          case NoisyDescent: g[i] = mean[i] + 0.5f * noise; break;
          case PureNoise: g[i] = noise; break;
          case Oscillating: g[i] = (t % 2 ? 1.0f : -1.0f) * mean[i]; break;
          default: g[i] = mean[i] * (2.0f * static_cast<float>(t) / static_cast<float>(c.steps)) + 0.1f * noise; break;
        }
        w[i] = w0[i] * (1.0f - 0.01f * static_cast<float>(t));
      }
      s.g.push_back(std::move(g));
      s.w.push_back(std::move(w));
    }
  }
  return sequences;
}

// The rule's delta at every step of every sequence: [sequence][step][element].
std::vector<Grid> run(const ir::Function& f, const std::vector<Sequence>& sequences, const ProbeConfig& c) {
  const std::size_t n = static_cast<std::size_t>(c.elements);
  std::vector<Grid> out;
  for (std::size_t k = 0; k < sequences.size(); ++k) {
    std::vector<std::vector<float>> states(f.states.size(), std::vector<float>(n, 0.0f));
    std::vector<float*> pointers;
    for (auto& s : states) pointers.push_back(s.data());
    Grid deltas;
    for (int t = 1; t <= c.steps; ++t) {
      ir::StepContext ctx{static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(c.steps), 0.01f, c.seed,
                          static_cast<std::uint32_t>(k)};
      deltas.push_back(ir::interpret_delta(f, ctx, sequences[k].w[t - 1].data(), sequences[k].g[t - 1].data(),
                                           pointers, n));
    }
    out.push_back(std::move(deltas));
  }
  return out;
}

// x rounded to `bits` significant bits, as an integer code (exponent, mantissa); specials apart.
std::uint64_t quantize(float x, int bits) {
  if (std::isnan(x)) return 0x7fc0000000000001ull;
  if (std::isinf(x)) return x > 0 ? 0x7f80000000000001ull : 0xff80000000000001ull;
  if (std::fabs(x) < 1e-30f) return 0;
  int exponent = 0;
  double mantissa = std::frexp(static_cast<double>(x), &exponent);  // |mantissa| in [0.5, 1)
  long long q = std::llround(mantissa * std::ldexp(1.0, bits));
  if (std::llabs(q) == (1ll << bits)) {  // rounded up to the next binade
    q /= 2;
    ++exponent;
  }
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(exponent)) << 32) ^ static_cast<std::uint32_t>(q);
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

const char* name(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass: return "pass";
    case Verdict::NonFinite: return "non_finite";
    case Verdict::Zero: return "zero";
    case Verdict::Constant: return "constant";
    case Verdict::GradientIndependent: return "gradient_independent";
    case Verdict::NotDescent: return "not_descent";
  }
  return "?";
}

ProbeResult probe(const ir::Function& optimized, const ProbeConfig& c) {
  if (c.steps < 2 || c.elements < 2 || c.fingerprint_bits < 1 || c.fingerprint_bits > 30)
    throw std::invalid_argument("probe: needs steps >= 2, elements >= 2 and 1 <= fingerprint_bits <= 30");
  const std::vector<Sequence> sequences = make_sequences(c, c.seed);
  const std::vector<Grid> deltas = run(optimized, sequences, c);

  ProbeResult result;
  std::uint64_t hash = 0x6e6f732d70726f62ull;  // "nos-prob"
  std::size_t total = 0, non_finite = 0, zero = 0;
  double largest = 0;
  for (const Grid& grid : deltas)
    for (const std::vector<float>& step : grid)
      for (float x : step) {
        hash = nos_mix64(hash ^ quantize(x, c.fingerprint_bits));
        ++total;
        if (!std::isfinite(x)) ++non_finite;
        else {
          if (std::fabs(x) <= 1e-30f) ++zero;
          largest = std::max(largest, std::fabs(static_cast<double>(x)));
        }
      }
  result.fingerprint = ir::hash_hex(hash);
  result.non_finite_fraction = static_cast<double>(non_finite) / static_cast<double>(total);

  // Mean cosine between delta and g over the steps where both are finite and non-zero.
  double cosine_sum = 0;
  int cosine_count = 0;
  for (std::size_t k = 0; k < deltas.size(); ++k)
    for (std::size_t t = 0; t < deltas[k].size(); ++t) {
      const std::vector<float>& d = deltas[k][t];
      const std::vector<float>& g = sequences[k].g[t];
      if (!all_finite(d)) continue;
      double dot = 0, dd = 0, gg = 0;
      for (std::size_t i = 0; i < d.size(); ++i) {
        dot += static_cast<double>(d[i]) * g[i];
        dd += static_cast<double>(d[i]) * d[i];
        gg += static_cast<double>(g[i]) * g[i];
      }
      if (dd == 0 || gg == 0) continue;
      cosine_sum += dot / std::sqrt(dd * gg);
      ++cosine_count;
    }
  result.mean_cosine = cosine_count ? cosine_sum / cosine_count : 0;

  auto reject = [&](Verdict v, std::string reason) {
    result.verdict = v;
    result.reason = std::move(reason);
    return result;
  };
  if (result.non_finite_fraction > c.max_non_finite_fraction)
    return reject(Verdict::NonFinite, fmt::format("{:.1f}% of the probe updates are NaN or infinite",
                                                  100.0 * result.non_finite_fraction));
  if (zero == total) return reject(Verdict::Zero, "the update is zero on every probe");

  // The same value for every element at every step: a per-step scalar that ignores g and w.
  bool constant = true;
  for (const Grid& grid : deltas)
    for (const std::vector<float>& step : grid) {
      double first = step[0], spread = 0;
      for (float x : step) spread = std::max(spread, std::fabs(x - first));
      if (spread > c.constant_tolerance * std::max(std::fabs(first), 1e-30)) constant = false;
    }
  if (constant) return reject(Verdict::Constant, "the update is the same for every element (it ignores g and w)");

  // The same updates from different gradients (same weights, same random draws).
  const std::vector<Grid> other = run(optimized, make_sequences(c, c.seed + 0x5eed), c);
  double difference = 0;
  for (std::size_t k = 0; k < deltas.size(); ++k)
    for (std::size_t t = 0; t < deltas[k].size(); ++t)
      for (std::size_t i = 0; i < deltas[k][t].size(); ++i)
        difference = std::max(difference, std::fabs(static_cast<double>(deltas[k][t][i]) - other[k][t][i]));
  if (difference <= c.constant_tolerance * largest)
    return reject(Verdict::GradientIndependent, "the update does not change when the gradient does");

  if (!(result.mean_cosine > c.min_descent_cosine))
    return reject(Verdict::NotDescent, fmt::format("not a descent direction: mean cos(update, g) = {:.3f}, needs > {:g}",
                                                   result.mean_cosine, c.min_descent_cosine));
  return result;
}

}  // namespace nos::search
