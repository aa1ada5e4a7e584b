#include "benchmarks/nos_bench/report.h"

#include <cstdio>
#include <optional>

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

nlohmann::json optional_json(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string format_or_dash(std::optional<double> v, const char* format) {
  if (!v) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, *v);
  return buffer;
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
    j["speedup_vs_libtorch"] = optional_json(speedup(records, r, "libtorch"));
    j["speedup_vs_aten_eager"] = optional_json(speedup(records, r, "aten-eager"));
    j["pct_of_roofline"] = optional_json(pct_of_roofline(records, r));
    if (!r.note.empty()) j["note"] = r.note;
    out.push_back(std::move(j));
  }
  return out;
}

void print_table(std::ostream& out, const std::vector<KernelRecord>& records) {
  if (records.empty()) return;
  const KernelRecord& first = records.front();
  char line[256];
  std::snprintf(line, sizeof line, "\n== %s, %lld floats in %lld tensor%s, %s, %d thread%s ==\n", first.layout.c_str(),
                static_cast<long long>(first.numel), static_cast<long long>(first.tensors),
                first.tensors == 1 ? "" : "s", first.device.c_str(), first.threads, first.threads == 1 ? "" : "s");
  out << line;
  std::snprintf(line, sizeof line, "%-11s %-10s %5s %10s %21s %8s %10s %8s %8s\n", "rule", "impl", "B/p", "ms median",
                "[min, max]", "GB/s", "x libtorch", "x eager", "%roof");
  out << line;
  std::string last_rule;
  for (const KernelRecord& r : records) {
    if (!last_rule.empty() && r.rule != last_rule) out << '\n';
    last_rule = r.rule;
    if (!r.measured()) {
      std::snprintf(line, sizeof line, "%-11s %-10s %5d   skipped: %s\n", r.rule.c_str(), r.impl.c_str(),
                    r.bytes_per_param, r.skipped.c_str());
      out << line;
      continue;
    }
    std::string spread = "[" + format_or_dash(r.stats.min_ms, "%.3f") + ", " + format_or_dash(r.stats.max_ms, "%.3f") + "]";
    std::snprintf(line, sizeof line, "%-11s %-10s %5d %10.3f %21s %8.1f %10s %8s %8s\n", r.rule.c_str(), r.impl.c_str(),
                  r.bytes_per_param, r.stats.median_ms, spread.c_str(), r.gbps(),
                  format_or_dash(speedup(records, r, "libtorch"), "%.2fx").c_str(),
                  format_or_dash(speedup(records, r, "aten-eager"), "%.2fx").c_str(),
                  format_or_dash(pct_of_roofline(records, r), "%.0f%%").c_str());
    out << line;
  }
  // Rule texts once, under the table, so the rows stay short.
  last_rule.clear();
  for (const KernelRecord& r : records)
    if (r.rule != last_rule) {
      last_rule = r.rule;
      out << "  " << r.rule << ": " << r.rule_text << '\n';
    }
}

}  // namespace nos::bench
