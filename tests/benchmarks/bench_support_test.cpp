// nos-bench's helpers: what the kernel benchmark's numbers rest on (the byte counts, the roofline
// loop's arithmetic, the ResNet-50 table, the statistics) and the shape of its reports.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "benchmarks/nos_bench/bench_rules.h"
#include "benchmarks/nos_bench/plot.h"
#include "benchmarks/nos_bench/report.h"
#include "benchmarks/nos_bench/resnet50_shapes.h"
#include "benchmarks/nos_bench/roofline.h"
#include "benchmarks/nos_bench/timing.h"

using namespace nos::bench;

TEST_CASE("resnet50 table: torchvision's 161 parameter tensors and 25,557,032 parameters") {
  const auto& shapes = resnet50_parameter_shapes();
  CHECK(shapes.size() == 161);
  std::int64_t total = 0, convs = 0;
  for (const NamedShape& s : shapes) {
    total += numel(s.shape);
    convs += s.shape.size() == 4;
  }
  CHECK(total == 25'557'032);
  CHECK(convs == 53);
  CHECK(shapes.front().name == "conv1.weight");
  CHECK(shapes.front().shape == std::vector<std::int64_t>{64, 3, 7, 7});
  CHECK(shapes[3].name == "layer1.0.conv1.weight");
  CHECK(shapes[3].shape == std::vector<std::int64_t>{64, 64, 1, 1});
  CHECK(shapes[shapes.size() - 2].shape == std::vector<std::int64_t>{1000, 2048});
  CHECK(shapes.back().name == "fc.bias");
}

TEST_CASE("summarize: median of odd and even counts, min, max") {
  Stats odd = summarize({3, 1, 2});
  CHECK(odd.median_ms == 2);
  CHECK(odd.min_ms == 1);
  CHECK(odd.max_ms == 3);
  CHECK(odd.reps == 3);
  CHECK(summarize({4, 1, 3, 2}).median_ms == 2.5);
  CHECK(summarize({}).reps == 0);
}

TEST_CASE("measure: warm-up runs are not timed, max_seconds stops after min_reps") {
  int calls = 0;
  MeasureOptions options;
  options.warmup = 2;
  options.reps = 50;
  options.min_reps = 3;
  options.max_seconds = 0;  // every timed run exceeds it: exactly min_reps samples
  Stats s = measure(options, [&] { ++calls; });
  CHECK(s.reps == 3);
  CHECK(calls == 5);
}

TEST_CASE("roofline bytes equal ir::bytes_per_param of the benchmark rules") {
  for (const std::string& name : builtin_rule_names()) {
    BenchRule rule = builtin_rule(name);
    CAPTURE(name);
    CHECK(roofline_bytes_per_param(static_cast<int>(rule.rule.optimized.states.size())) ==
          nos::ir::bytes_per_param(rule.rule.optimized));
  }
  CHECK(roofline_bytes_per_param(0) == 12);
  CHECK(roofline_bytes_per_param(1) == 20);
  CHECK(roofline_bytes_per_param(2) == 28);
}

TEST_CASE("roofline_cpu reads and writes every element of every array, on any thread count") {
  // Odd sizes cross the chunk boundary and leave a tail for the vector loop.
  for (std::int64_t n : {std::int64_t{1}, std::int64_t{1000}, std::int64_t{65536 * 3 + 17}})
    for (int states = 0; states <= kMaxRooflineStates; ++states)
      for (int threads : {1, 3})
        for (int variant = 0; variant < roofline_variant_count(); ++variant) {
          CAPTURE(n);
          CAPTURE(states);
          CAPTURE(threads);
          std::string variant_name = roofline_variant_name(variant);
          CAPTURE(variant_name);
          std::vector<float> w(n, 1.0f), g(n, 2.0f);
          std::vector<std::vector<float>> s(3, std::vector<float>(n, 4.0f));
          float* ptrs[3] = {s[0].data(), s[1].data(), s[2].data()};
          roofline_cpu(w.data(), g.data(), ptrs, states, n, threads, variant);
          const float expect_w = 1.0f - 1e-3f * 2.0f, expect_s = 0.9f * 4.0f + (1 - 0.9f) * 2.0f;
          bool all = true;
          for (std::int64_t i = 0; i < n; ++i) {
            all = all && w[i] == expect_w;
            for (int k = 0; k < 3; ++k) all = all && s[k][i] == (k < states ? expect_s : 4.0f);
          }
          CHECK(all);
        }
  float* none[3] = {};
  CHECK_THROWS_AS(roofline_cpu(nullptr, nullptr, none, 4, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(roofline_cpu(nullptr, nullptr, none, 0, 0, 1, roofline_variant_count()), std::invalid_argument);
}

TEST_CASE("the roofline's limit is the fastest of its variants, chosen on the arrays themselves") {
  CHECK(roofline_variant_name(0) == "baseline x86-64");
#if defined(__x86_64__)
  CHECK(roofline_variant_count() >= 2);  // every x86-64 CPU this project runs on has AVX2
#endif
  std::vector<float> w(100000, 1.0f), g(100000, 2.0f), m(100000, 0.0f);
  float* states[3] = {m.data(), nullptr, nullptr};
  int chosen = fastest_roofline_variant(w.data(), g.data(), states, 1, 100000, 1);
  CHECK(chosen >= 0);
  CHECK(chosen < roofline_variant_count());
  // Every variant was timed over 3 calls, each of which updated the arrays once.
  float expect = 1.0f;
  for (int k = 0; k < 3 * roofline_variant_count(); ++k) expect -= 1e-3f * 2.0f;
  CHECK(w[99999] == doctest::Approx(expect).epsilon(1e-6));
}

TEST_CASE("select_rules: built-in names, seeded random rules that read the gradient, errors") {
  std::vector<BenchRule> rules = select_rules({"adam", "random7", "random7", "random8"}, 2);
  REQUIRE(rules.size() == 4);
  CHECK(rules[0].known == Known::Adam);
  CHECK(rules[0].rule.optimized.states.size() == 2);
  CHECK(rules[1].name == "random7");
  CHECK(rules[1].known == Known::None);
  CHECK(rules[1].rule.hash == rules[2].rule.hash);  // the seed decides the rule
  for (const BenchRule& r : {rules[1], rules[3]}) {
    bool reads_g = false;
    for (const nos::ir::Instr& in : r.rule.optimized.body)
      reads_g = reads_g || in.op == nos::ir::Op::Grad || in.op == nos::ir::Op::Mavg;
    CHECK(reads_g);
  }
  CHECK(builtin_rule("rmsprop").rule.optimized.states.size() == 1);
  CHECK_THROWS_AS(select_rules({"adamw"}, 2), std::invalid_argument);
  CHECK_THROWS_AS(select_rules({"random"}, 2), std::invalid_argument);
  // A seed beyond 64 bits is refused naming it, not an internal error (std::out_of_range).
  CHECK_THROWS_WITH_AS(select_rules({"random18446744073709551616"}, 2),
                       doctest::Contains("the seed 18446744073709551616 is larger than 18446744073709551615"),
                       std::invalid_argument);
  CHECK(select_rules({"random18446744073709551615"}, 2).front().name == "random18446744073709551615");
}

namespace {
KernelRecord record(const char* impl, double ms) {
  KernelRecord r;
  r.rule = "adam";
  r.layout = "single";
  r.numel = 1 << 20;
  r.tensors = 1;
  r.impl = impl;
  r.stats = {ms, ms, ms, 3};
  r.bytes_per_param = 28;
  r.threads = 2;
  r.device = "cpu";
  return r;
}
}  // namespace

TEST_CASE("kernel report: gbps, speedups and the share of the roofline, skipped records") {
  std::vector<KernelRecord> records = {record("nos", 2), record("libtorch", 40), record("roofline", 1.6)};
  KernelRecord skipped = record("aten-fused", 0);
  skipped.skipped = "no kernel for CPU";
  skipped.stats = {};
  records.push_back(skipped);
  nlohmann::json j = to_json(records);
  REQUIRE(j.size() == 4);
  CHECK(j[0]["impl"] == "nos");
  CHECK(j[0]["speedup_vs_libtorch"].get<double>() == doctest::Approx(20));
  CHECK(j[0]["pct_of_roofline"].get<double>() == doctest::Approx(80));
  CHECK(j[0]["gbps"].get<double>() == doctest::Approx(28.0 * (1 << 20) / 2e6));
  CHECK(j[0]["speedup_vs_aten_eager"].is_null());
  CHECK(j[3]["ms_median"].is_null());
  CHECK(j[3]["skipped"] == "no kernel for CPU");
  for (const char* key : {"rule", "layout", "numel", "impl", "ms_median", "ms_min", "ms_max", "gbps", "bytes_per_param",
                          "threads", "device"})
    CHECK(j[0].contains(key));
  std::string table = format_table(records);
  CHECK(table.find("20.00x") != std::string::npos);
  CHECK(table.find("80%") != std::string::npos);
  CHECK(table.find("skipped: no kernel for CPU") != std::string::npos);
}

TEST_CASE("plot_curves writes one data block per series, and a PNG where gnuplot exists") {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "nos_bench_plot_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Plot plot{"it's a title", "epoch", "accuracy", {{"a", {1, 2}, {50, 60}, {1, 2}}, {"b", {1, 2}, {40, 45}, {0, 0}}}};
  PlotFiles files = plot_curves(plot, dir, "curves");
  std::ifstream data(files.data);
  std::stringstream text;
  text << data.rdbuf();
  CHECK(text.str() == "# a\n# x mean std\n1 50 1\n2 60 2\n\n\n# b\n# x mean std\n1 40 0\n2 45 0\n\n\n");
  CHECK(std::filesystem::exists(files.script));
  std::string why;
  if (!gnuplot_available(&why)) {
    MESSAGE("[SKIP] " << why);
    CHECK(!files.problem.empty());
    return;
  }
  CHECK(files.problem == "");
  CHECK(std::filesystem::file_size(files.image) > 1000);
  std::filesystem::remove_all(dir);
}
