// Probes: fingerprints that see through rewriting, and each screening verdict on rules written to
// trigger it, never on the classic optimizers.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "compiler/analysis.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "controller/search/probes.h"
#include "dsl/parser.h"
#include "dsl/tokens.h"

namespace nos::search {
namespace {

ir::Function compile(const std::string& text) { return ir::optimize(ir::lower(dsl::parse_rule(text))); }

ProbeResult probe_text(const std::string& text, const ProbeConfig& config = {}) { return probe(compile(text), config); }

const char* const kClassics[] = {
    "adam",                                   // Adam
    "exp(sign(g) * sign(m)) * g",             // PowerSign
    "g",                                      // SGD
    "m",                                      // momentum
    "rmsprop",                                // RMSProp
    "(1 + sign(g) * sign(m)) * g",            // AddSign
    "adam * ld",                              // Adam with linear decay
    "sign(m)",                                // signSGD with momentum
};

}  // namespace

TEST_CASE("probes: the classic optimizers pass screening") {
  for (const char* rule : kClassics) {
    ProbeResult r = probe_text(rule);
    INFO(std::string(rule), ": ", r.reason);
    CHECK(r.passed());
    CHECK(r.reason.empty());
    CHECK(r.mean_cosine > 0.1);
    CHECK(r.fingerprint.size() == 16);
  }
}

TEST_CASE("probes: rules equal up to rewriting or rounding share a fingerprint, others do not") {
  // Different IR, so different canonical hashes, but the same updates.
  const char* const same_as_adam[] = {
      "div(m, sqrt(v), 1e-8)",               // adam's definition written out (the same IR)
      "div(2 * m, 2 * sqrt(v), 2e-8)",       // scaled by 2: exact in binary
      "div(m * 4, sqrt(v) * 4 + 4e-8, 0)",   // the same, the delta moved into the sum
      "m * div(1, sqrt(v), 1e-8)",           // a reciprocal: equal up to rounding
      "-div(-m, sqrt(v), 1e-8)",             // signs flipped twice (a delta < 0 is an error)
  };
  ir::Function adam = compile("adam");
  std::string fingerprint = probe(adam).fingerprint;
  int different_hashes = 0;
  for (const char* rule : same_as_adam) {
    INFO(std::string(rule));
    ir::Function f = compile(rule);
    different_hashes += ir::canonical_hash(f) != ir::canonical_hash(adam);
    CHECK(probe(f).fingerprint == fingerprint);
  }
  CHECK(different_hashes >= 2);  // the fingerprint finds what the hash cannot

  const char* const different[] = {"adam", "adam with beta1 = 0.95", "adam with beta2 = 0.99", "rmsprop",
                                   "m", "g", "sign(g)", "exp(sign(g) * sign(m)) * g", "adam * ld", "adam * cd",
                                   "adam + eps", "adam + w4", "drop(adam, 0.1)"};
  std::set<std::string> fingerprints;
  for (const char* rule : different) fingerprints.insert(probe_text(rule).fingerprint);
  CHECK(fingerprints.size() == std::size(different));

  ProbeConfig other;
  other.seed += 1;
  CHECK(probe(adam, other).fingerprint != fingerprint);  // fingerprints belong to their ProbeConfig
  CHECK(probe(adam).fingerprint == fingerprint);         // and are deterministic
}

TEST_CASE("probes: each screening verdict, with its reason") {
  struct Case {
    const char* rule;
    Verdict verdict;
    const char* reason;
  };
  const Case cases[] = {
      {"exp(100 * g) * g", Verdict::NonFinite, "% of the probe updates are NaN or infinite"},
      {"log(sign(g) * 0.5 - 0.5 * sign(g))", Verdict::NonFinite, "NaN or infinite"},
      {"drop(g, 1)", Verdict::Zero, "zero on every probe"},
      {"clip(g, 0)", Verdict::Zero, "zero on every probe"},
      {"ld", Verdict::Constant, "same for every element"},
      {"2 * cd", Verdict::Constant, "same for every element"},
      {"w4", Verdict::GradientIndependent, "does not change when the gradient does"},
      {"eps", Verdict::GradientIndependent, "does not change when the gradient does"},
      {"-g", Verdict::NotDescent, "not a descent direction: mean cos(update, g) = -1.000"},
      {"neg(adam)", Verdict::NotDescent, "not a descent direction"},
      {"clip(g, 0.001) - g", Verdict::NotDescent, "not a descent direction"},
  };
  for (const Case& c : cases) {
    ProbeResult r = probe_text(c.rule);
    INFO(std::string(c.rule), " -> ", name(r.verdict), ": ", r.reason);
    CHECK(r.verdict == c.verdict);
    CHECK(r.reason.find(c.reason) != std::string::npos);
    CHECK_FALSE(r.passed());
  }
}

TEST_CASE("probes: thresholds are configurable") {
  ProbeConfig lenient;
  lenient.max_non_finite_fraction = 0.5;
  CHECK(probe_text("exp(100 * g) * g", lenient).verdict != Verdict::NonFinite);
  ProbeConfig strict;
  strict.min_descent_cosine = 0.99;
  CHECK(probe_text("g", strict).passed());  // cos(g, g) = 1
  CHECK(probe_text("adam", strict).verdict == Verdict::NotDescent);
  ProbeConfig bad;
  bad.steps = 1;
  CHECK_THROWS_AS(probe_text("g", bad), std::invalid_argument);
}

TEST_CASE("probes: random rules from the token form give a plausible spread") {
  std::mt19937_64 rng(7);
  std::map<Verdict, int> verdicts;
  std::set<std::string> hashes, fingerprints;
  int invalid = 0, total = 400;
  for (int i = 0; i < total; ++i) {
    ir::Function f = ir::optimize(ir::lower(dsl::to_rule(dsl::random_tokens(rng, 1 + i % 3))));
    if (ir::always_non_finite(f)) {
      ++invalid;
      continue;
    }
    ProbeResult r = probe(f);
    ++verdicts[r.verdict];
    hashes.insert(ir::hash_hex(ir::canonical_hash(f)));
    fingerprints.insert(r.fingerprint);
  }
  MESSAGE("invalid " << invalid << ", pass " << verdicts[Verdict::Pass] << ", non_finite "
                     << verdicts[Verdict::NonFinite] << ", zero " << verdicts[Verdict::Zero] << ", constant "
                     << verdicts[Verdict::Constant] << ", gradient_independent "
                     << verdicts[Verdict::GradientIndependent] << ", not_descent " << verdicts[Verdict::NotDescent]
                     << "; " << hashes.size() << " hashes, " << fingerprints.size() << " fingerprints");
  // Random rules are mostly useless (many ignore g or point uphill), and every way of being useless
  // occurs; the fingerprint merges some rules the canonical hash keeps apart, but not many.
  int valid = total - invalid;
  CHECK(verdicts[Verdict::Pass] > valid / 5);
  CHECK(verdicts[Verdict::Pass] < valid / 2);
  for (Verdict v : {Verdict::NonFinite, Verdict::Zero, Verdict::Constant, Verdict::GradientIndependent, Verdict::NotDescent})
    CHECK_MESSAGE(verdicts[v] > 0, name(v));
  CHECK(verdicts[Verdict::GradientIndependent] > valid / 10);
  CHECK(verdicts[Verdict::NotDescent] > valid / 10);
  CHECK(fingerprints.size() < hashes.size());
  CHECK(fingerprints.size() > hashes.size() * 8 / 10);
}

}  // namespace nos::search
