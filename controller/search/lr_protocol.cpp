#include "controller/search/lr_protocol.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "compiler/codegen/kernel_abi.h"

namespace nos::search {
namespace {

std::string rates_text(const std::vector<double>& grid) {
  std::string out;
  for (double x : grid) out += fmt::format("{}{:g}", out.empty() ? "" : ", ", x);
  return out;
}

std::string epochs_text(int n) { return fmt::format("{} epoch{}", n, n == 1 ? "" : "s"); }

}  // namespace

const char* name(LrSweep sweep) { return sweep == LrSweep::Halving ? "halving" : "exhaustive"; }

std::optional<LrSweep> parse_lr_sweep(std::string_view text) {
  if (text == "exhaustive") return LrSweep::Exhaustive;
  if (text == "halving") return LrSweep::Halving;
  return std::nullopt;
}

std::optional<std::vector<double>> named_lr_grid(std::string_view name) {
  if (name == "default") return std::vector<double>{1e-3, 1e-2, 1e-1, 1};
  if (name == "fine") {
    std::vector<double> grid;
    for (int k = 0; k < 8; ++k) grid.push_back(k == 7 ? 1.0 : std::pow(10.0, -4.0 + 4.0 * k / 7.0));
    return grid;
  }
  if (name == "half-decades") return std::vector<double>{1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1};
  return std::nullopt;
}

std::vector<double> parse_lr_grid(const std::string& text) {
  if (std::optional<std::vector<double>> named = named_lr_grid(text)) return *named;
  std::vector<double> grid;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0')
      throw std::invalid_argument(fmt::format("'{}' is not a number (nor a named grid: {})", item, kLrGridNames));
    if (std::string problem = codegen::learning_rate_problem(v); !problem.empty())
      throw std::invalid_argument(fmt::format("learning rate {}: {}", item, problem));
    grid.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return grid;
}

std::vector<HalvingStep> halving_schedule(std::size_t n) {
  if (n <= 1) return {{n, 1.0}};
  int rounds = 0;
  while ((std::size_t{1} << rounds) < n) ++rounds;  // ceil(log2 n)
  std::vector<HalvingStep> steps;
  std::size_t m = n;
  for (int k = 0; k < rounds; ++k) {
    steps.push_back({m, std::ldexp(1.0, -(rounds - 1 - k))});
    m = (m + 1) / 2;
  }
  return steps;
}

double sweep_cost(std::size_t n, LrSweep sweep) {
  if (sweep == LrSweep::Exhaustive) return static_cast<double>(n);
  double cost = 0;
  for (const HalvingStep& s : halving_schedule(n)) cost += static_cast<double>(s.rates) * s.fraction;
  return cost;
}

std::size_t sweep_runs(std::size_t n, LrSweep sweep) {
  if (sweep == LrSweep::Exhaustive) return n;
  std::size_t runs = 0;
  for (const HalvingStep& s : halving_schedule(n)) runs += s.rates;
  return runs;
}

std::string describe(const LrConfig& lr) {
  if (lr.fixed) return fmt::format("fixed lr {:g}", *lr.fixed);
  // The exhaustive sweep's line is the one final has always printed.
  if (lr.sweep == LrSweep::Exhaustive) return fmt::format("lr swept over {} ({})", rates_text(lr.grid), epochs_text(lr.sweep_epochs));
  const std::size_t n = lr.grid.size();
  return fmt::format("lr by successive halving over {} ({} rates, {} runs in {} rounds, {:.3g} of the exhaustive sweep's "
                     "cost; the last round {} on every example)",
                     rates_text(lr.grid), n, sweep_runs(n, lr.sweep), halving_schedule(n).size(),
                     sweep_cost(n, lr.sweep) / static_cast<double>(n), epochs_text(lr.sweep_epochs));
}

nlohmann::json protocol_json(const LrConfig& lr) {
  const std::size_t n = lr.grid.size();
  nlohmann::json rounds = nlohmann::json::array();
  if (!lr.fixed)
    for (const HalvingStep& s : lr.sweep == LrSweep::Halving ? halving_schedule(n) : std::vector<HalvingStep>{{n, 1.0}})
      rounds.push_back({{"rates", s.rates}, {"fraction", s.fraction}});
  return {{"grid", lr.grid},
          {"sweep_epochs", lr.sweep_epochs},
          {"sweep", name(lr.sweep)},
          {"fixed", lr.fixed ? nlohmann::json(*lr.fixed) : nlohmann::json(nullptr)},
          {"rounds", rounds},
          {"runs", lr.fixed ? 0 : sweep_runs(n, lr.sweep)},
          {"cost", lr.fixed ? 0.0 : sweep_cost(n, lr.sweep)},
          {"cost_exhaustive", lr.fixed ? 0.0 : static_cast<double>(n)},
          {"description", describe(lr)}};
}

}  // namespace nos::search
