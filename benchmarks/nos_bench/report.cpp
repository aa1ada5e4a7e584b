#include "benchmarks/nos_bench/report.h"
#include "support/json_number.h"

#include <optional>

#include <fmt/format.h>

namespace nos::bench {
namespace {

const KernelRecord* find(const std::vector<KernelRecord>& records, const KernelRecord& like, const char* impl) {
  for (const KernelRecord& r : records)
    if (r.measured() && r.impl == impl && r.rule == like.rule && r.layout == like.layout && r.numel == like.numel &&
        r.device == like.device && r.threads == like.threads)
      return &r;
  return nullptr;
}

// How many times faster `r` is than the baseline; none when either is missing.
std::optional<double> speedup(const std::vector<KernelRecord>& records, const KernelRecord& r, const char* baseline) {
  const KernelRecord* base = find(records, r, baseline);
  if (!base || !r.measured() || r.stats.median_ms <= 0) return std::nullopt;
  return base->stats.median_ms / r.stats.median_ms;
}

// The share of the roofline's speed this implementation reaches (100 = as fast as the limit).
std::optional<double> pct_of_roofline(const std::vector<KernelRecord>& records, const KernelRecord& r) {
  std::optional<double> s = speedup(records, r, "roofline");
  if (!s) return std::nullopt;
  return 100 * *s;
}

// `v` with fmt's `spec` (e.g. "{:.2f}x"), or "-" when there is none.
std::string format_or_dash(std::optional<double> v, fmt::format_string<double> spec) {
  return v ? fmt::format(spec, static_cast<double>(*v)) : std::string("-");
}

}  // namespace

double KernelRecord::gbps() const {
  if (!measured() || stats.median_ms <= 0) return 0;
  return static_cast<double>(bytes_per_param) * static_cast<double>(numel) / (stats.median_ms * 1e6);
}

nlohmann::json to_json(const std::vector<KernelRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const KernelRecord& r : records) {
    nlohmann::json j = {{"rule", r.rule},
                        {"rule_text", r.rule_text},
                        {"rule_hash", r.rule_hash},
                        {"layout", r.layout},
                        {"numel", r.numel},
                        {"tensors", r.tensors},
                        {"impl", r.impl},
                        {"bytes_per_param", r.bytes_per_param},
                        {"threads", r.threads},
                        {"device", r.device},
                        {"load_avg_1m", r.load_avg_1m}};
    if (r.measured()) {
      j["ms_median"] = r.stats.median_ms;
      j["ms_min"] = r.stats.min_ms;
      j["ms_max"] = r.stats.max_ms;
      j["reps"] = r.stats.reps;
      j["gbps"] = r.gbps();
    } else {
      for (const char* key : {"ms_median", "ms_min", "ms_max", "gbps"}) j[key] = nullptr;
      j["reps"] = 0;
      j["skipped"] = r.skipped;
    }
    j["speedup_vs_libtorch"] = support::number_or_null(speedup(records, r, "libtorch"));
    j["speedup_vs_aten_eager"] = support::number_or_null(speedup(records, r, "aten-eager"));
    j["pct_of_roofline"] = support::number_or_null(pct_of_roofline(records, r));
    if (!r.note.empty()) j["note"] = r.note;
    out.push_back(std::move(j));
  }
  return out;
}

std::string format_table(const std::vector<KernelRecord>& records) {
  if (records.empty()) return {};
  std::string out;
  const KernelRecord& first = records.front();
  out += fmt::format("\n== {}, {} floats in {} tensor{}, {}, {} thread{} ==\n", first.layout, first.numel, first.tensors,
                     first.tensors == 1 ? "" : "s", first.device, first.threads, first.threads == 1 ? "" : "s");
  out += fmt::format("{:<11} {:<10} {:>5} {:>10} {:>21} {:>8} {:>10} {:>8} {:>8}\n", "rule", "impl", "B/p", "ms median",
                     "[min, max]", "GB/s", "x libtorch", "x eager", "%roof");
  std::string last_rule;
  for (const KernelRecord& r : records) {
    if (!last_rule.empty() && r.rule != last_rule) out += '\n';
    last_rule = r.rule;
    if (!r.measured()) {
      out += fmt::format("{:<11} {:<10} {:>5}   skipped: {}\n", r.rule, r.impl, r.bytes_per_param, r.skipped);
      continue;
    }
    std::string spread = fmt::format("[{:.3f}, {:.3f}]", r.stats.min_ms, r.stats.max_ms);
    out += fmt::format("{:<11} {:<10} {:>5} {:>10.3f} {:>21} {:>8.1f} {:>10} {:>8} {:>8}\n", r.rule, r.impl,
                       r.bytes_per_param, r.stats.median_ms, spread, r.gbps(),
                       format_or_dash(speedup(records, r, "libtorch"), "{:.2f}x"),
                       format_or_dash(speedup(records, r, "aten-eager"), "{:.2f}x"),
                       format_or_dash(pct_of_roofline(records, r), "{:.0f}%"));
  }
  // Rule texts once, under the table, so the rows stay short.
  last_rule.clear();
  for (const KernelRecord& r : records)
    if (r.rule != last_rule) {
      last_rule = r.rule;
      out += fmt::format("  {}: {}\n", r.rule, r.rule_text);
    }
  return out;
}

}  // namespace nos::bench
