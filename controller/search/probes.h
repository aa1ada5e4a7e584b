// Probes: a compiled rule run on fixed inputs by the reference interpreter, before any training.
// Its rounded outputs hash to the rule's functional fingerprint (AutoML-Zero's functional
// equivalence: differently written rules that compute the same updates share it, so one training
// serves both), and screening rejects rules that cannot train: non-finite updates, an update that
// is identically zero, the same for every element, independent of the gradient, or not a descent
// direction on average.
//
// The probe inputs are a few short gradient sequences from fixed seeds (T known, so ld/cd/rd are
// defined), each over elements whose gradient scales span 1e-4 .. 1: noisy descent, pure noise, an
// oscillating gradient and a growing one. Weights follow a fixed path (not the rule's own updates),
// so every output depends only on the rule. Random draws (eps, noise, drop) use a fixed seed.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/ir.h"

namespace nos::search {

struct ProbeConfig {
  int steps = 20;               // T of every sequence
  int elements = 16;            // per sequence
  std::uint64_t seed = 20240607;
  // Fingerprint: every output is rounded to this many significant bits before hashing, so that
  // rules equal up to float rounding (a few ulps) still match; values below 1e-30 count as 0.
  int fingerprint_bits = 10;
  // Screening thresholds.
  double max_non_finite_fraction = 0;  // share of NaN/inf outputs tolerated
  double constant_tolerance = 1e-6;    // relative spread below which outputs count as "the same"
  double min_descent_cosine = 0.05;    // mean cos(delta, g) over sequences and steps must exceed it
};

enum class Verdict { Pass, NonFinite, Zero, Constant, GradientIndependent, NotDescent };
const char* name(Verdict verdict);  // "pass", "non_finite", "zero", "constant", "gradient_independent", "not_descent"

struct ProbeResult {
  std::string fingerprint;  // 16 hex digits; only comparable under the same ProbeConfig
  Verdict verdict = Verdict::Pass;
  std::string reason;       // empty on Pass, else a sentence with the measured number
  double non_finite_fraction = 0;
  double mean_cosine = 0;   // over the probe steps where it is defined
  bool passed() const { return verdict == Verdict::Pass; }
};

// `optimized` as ir::optimize returns it (sign lookups lowered or not: same outputs).
ProbeResult probe(const ir::Function& optimized, const ProbeConfig& config = {});

}  // namespace nos::search
