// How every optimizer's learning rate is chosen, the same for the rules and the baselines: the
// grid (an explicit list or a named one), the sweep over it (every rate at the whole sweep budget,
// or successive halving), its schedule and its cost, and its one-line description and JSON.
// Torch-free: the child evaluation (child_evaluation.h) runs it; run, final and nos-bench parse it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nos::search {

// exhaustive: every rate of the grid trains sweep_epochs on the whole training split.
// halving: successive halving over the grid (halving_schedule): every rate starts on a fraction
// of the training examples, the better half continues on twice as many, until one remains.
enum class LrSweep { Exhaustive, Halving };
const char* name(LrSweep sweep);                           // "exhaustive", "halving"
std::optional<LrSweep> parse_lr_sweep(std::string_view text);

// How a candidate's learning rate is chosen: a sweep over a log grid (each rate trains
// sweep_epochs), then the full training at the best one; or one fixed rate.
struct LrConfig {
  std::vector<double> grid{1e-3, 1e-2, 1e-1, 1};
  int sweep_epochs = 1;
  LrSweep sweep = LrSweep::Exhaustive;
  std::optional<double> fixed;
};

// The named grids, ascending: "default" (1e-3, 1e-2, 0.1, 1), "fine" (8 rates log-spaced over
// 1e-4 .. 1: 10^(-4 + 4k/7)), "half-decades" (1e-4, 3e-4, 1e-3, ..., 0.3, 1: 9 rates). None for
// another name.
std::optional<std::vector<double>> named_lr_grid(std::string_view name);
inline constexpr std::string_view kLrGridNames = "default, fine, half-decades";

// A grid as the command line spells it: a name above, or rates comma-separated ("0.01,0.1").
// Throws std::invalid_argument "'x' is not a number", "learning rate 1e-50: rounds to 0 ...",
// without the option's name (the caller adds it).
std::vector<double> parse_lr_grid(const std::string& text);

// One round of successive halving: which rates of the grid train (indices, ascending) and on
// what fraction of the sweep's training examples (each for sweep_epochs).
struct HalvingRound {
  std::vector<std::size_t> rates;
  double fraction = 1;
};

// The schedule for n rates as rounds of survivor counts: R = ceil(log2 n) rounds; round k
// (0-based) keeps m_k = ceil(n / 2^k) rates and trains each on 2^-(R-1-k) of the examples, so the
// last round trains its two rates as the exhaustive sweep would, and the best of them wins. One
// rate: one round at the whole budget. The indices of round 0 are every rate; later rounds' are
// the caller's (the best of the round before), so here only their count and fraction.
struct HalvingStep {
  std::size_t rates = 0;
  double fraction = 1;
};
std::vector<HalvingStep> halving_schedule(std::size_t n);

// The sweep's cost in rate-trainings at the whole sweep budget (sweep_epochs on every example):
// exhaustive n; halving sum_k m_k * 2^-(R-1-k) (8 rates: 6, 9 rates: 5.875, 4 rates: 4).
double sweep_cost(std::size_t n, LrSweep sweep);
// The (rate, budget) trainings the sweep runs: n, or sum_k m_k.
std::size_t sweep_runs(std::size_t n, LrSweep sweep);

// The protocol in one line, e.g. "lr swept over 0.001, 0.01, 0.1, 1 (1 epoch each)" or "lr by
// successive halving over 1e-4, ... (8 rates, 14 runs at 3 budgets, 0.75 of the exhaustive
// sweep's cost), 1 epoch" or "fixed lr 0.01".
std::string describe(const LrConfig& lr);
// {grid, sweep_epochs, sweep, fixed (null when none), runs, cost, cost_exhaustive}: what final
// stores as its protocol.
nlohmann::json protocol_json(const LrConfig& lr);

}  // namespace nos::search
