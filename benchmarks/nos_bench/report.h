// The results of `nos-bench kernels`: one record per (rule, layout, numel, impl), as JSON and as a
// console table with speedups and the fraction of the same run's roofline. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "benchmarks/nos_bench/timing.h"

namespace nos::bench {

struct KernelRecord {
  std::string rule, rule_text, rule_hash;
  std::string layout;            // "single" | "resnet50"
  std::int64_t numel = 0;        // parameters over all tensors
  std::int64_t tensors = 0;
  std::string impl;              // step_impls.h's names
  Stats stats;                   // per step
  int bytes_per_param = 0;       // ir::bytes_per_param of the rule: what any implementation must move
  int threads = 0;
  std::string device;
  std::string note;              // how it ran (backend, flat buffer, ...)
  std::string skipped;           // non-empty: not measured, and why
  double load_avg_1m = -1;       // the machine's load when the measurement started (shared machines)

  bool measured() const { return skipped.empty(); }
  // Useful bytes per second: bytes_per_param * numel / time. Implementations that move more bytes
  // (temporaries, several passes) score lower; none can truly exceed the roofline's.
  double gbps() const;
};

// `records` with the derived fields: gbps, and where the same (rule, layout, numel) has them,
// speedup_vs_libtorch, speedup_vs_aten_eager and pct_of_roofline. Unmeasured records carry null
// timings and `skipped`.
nlohmann::json to_json(const std::vector<KernelRecord>& records);

// The table of the records of one workload (same layout and numel), grouped by rule.
std::string format_table(const std::vector<KernelRecord>& records);

}  // namespace nos::bench
