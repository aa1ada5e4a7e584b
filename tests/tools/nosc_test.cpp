// End-to-end tests of nosc: exit codes, output, and eval against updates computed independently
// here in double precision (never by the interpreter under test).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_tool.h"

using nos::testing::run_tool;
using nos::testing::source_path;
using nos::testing::temp_file;

namespace {

const char* kExamples[] = {"sgd", "adam", "rmsprop", "powersign", "addsign", "paper"};

std::string example(const std::string& name) { return source_path("examples/" + name + ".dsl"); }

struct Case {
  std::vector<double> w;
  std::vector<std::vector<double>> grads;
  double lr = 0.01;
  int total_steps = 10;
};

Case make_case() {
  Case c;
  c.w = {0.5, -1.25, 2.0, 0.0, -0.001};
  c.grads = {{0.1, -0.2, 0.3, 0.0, 1.5}, {0.2, 0.1, -0.3, -0.05, 1.0}, {-0.1, 0.3, 0.2, 0.1, -2.0}};
  return c;
}

std::string steps_json(const Case& c) {
  nlohmann::json j = {{"lr", c.lr}, {"total_steps", c.total_steps}, {"w", c.w}, {"grads", c.grads}};
  return temp_file("steps.json", j.dump());
}

// Independent reference: moving averages and the update in double precision.
using Delta = double (*)(double g, double w, double m, double v, double t, double T);
std::vector<double> reference(const Case& c, Delta delta, double beta1 = 0.9, double beta2 = 0.999,
                              bool bias_correction = true) {
  std::vector<double> w = c.w, m(w.size(), 0), v(w.size(), 0);
  for (std::size_t k = 0; k < c.grads.size(); ++k) {
    double t = static_cast<double>(k + 1);
    for (std::size_t i = 0; i < w.size(); ++i) {
      double g = c.grads[k][i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      double mh = bias_correction ? m[i] / (1 - std::pow(beta1, t)) : m[i];
      double vh = bias_correction ? v[i] / (1 - std::pow(beta2, t)) : v[i];
      w[i] -= c.lr * delta(g, w[i], mh, vh, t, c.total_steps);
    }
  }
  return w;
}

double sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }

void check_eval(const std::vector<std::string>& rule_args, const std::vector<double>& expected, const Case& c) {
  std::vector<std::string> args = {"eval"};
  args.insert(args.end(), rule_args.begin(), rule_args.end());
  args.push_back("--input");
  args.push_back(steps_json(c));
  auto r = run_tool("nosc", args);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  REQUIRE(out["w"].size() == expected.size());
  CHECK(out["steps"] == c.grads.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(out["w"][i].get<double>() == doctest::Approx(expected[i]).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("nosc: --help lists the subcommands and exits 0") {
  auto r = run_tool("nosc", {"--help"});
  CHECK(r.exit_code == 0);
  for (const char* cmd : {"check", "fmt", "explain", "eval"}) CHECK(r.out.find(cmd) != std::string::npos);
  auto sub = run_tool("nosc", {"eval", "--help"});
  CHECK(sub.exit_code == 0);
  CHECK(sub.out.find("--input") != std::string::npos);
}

TEST_CASE("nosc: usage errors exit 2") {
  CHECK(run_tool("nosc", {}).exit_code == 2);
  CHECK(run_tool("nosc", {"frobnicate"}).exit_code == 2);
  auto both = run_tool("nosc", {"check", example("sgd"), "-e", "g"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("exactly one rule") != std::string::npos);
  auto file_and_rule = run_tool("nosc", {"eval", example("adam"), "--rule", "adam", "--input", steps_json(make_case())});
  CHECK(file_and_rule.exit_code == 2);  // --rule is a rule (file or text) in every tool; --rule-name picks one
  CHECK(file_and_rule.err.find("exactly one rule") != std::string::npos);
  auto name_without_file = run_tool("nosc", {"check", "-e", "g", "--rule-name", "adam"});
  CHECK(name_without_file.exit_code == 2);
  CHECK(name_without_file.err.find("--rule-name 'adam' picks a rule of a rule file") != std::string::npos);
}

TEST_CASE("nosc: a file of several rules needs --rule-name where one rule is needed (exit 1)") {
  auto several = run_tool("nosc", {"eval", example("powersign"), "--input", steps_json(make_case())});
  CHECK(several.exit_code == 1);
  CHECK(several.err.find("holds 6 rules; pick one by name (--rule-name): powersign") != std::string::npos);
  auto unknown = run_tool("nosc", {"check", example("adam"), "--rule-name", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("adam.dsl: no rule named 'nope'; it holds: adam adam_long adam_torch") != std::string::npos);
  auto picked = run_tool("nosc", {"check", "--rule", example("adam"), "--rule-name", "adam_torch"});
  CHECK(picked.exit_code == 0);
  CHECK(picked.out.rfind("adam_torch: ", 0) == 0);
  auto text = run_tool("nosc", {"check", "--rule", "exp(sign(g) * sign(m)) * g"});
  CHECK(text.exit_code == 0);
  CHECK(text.out == run_tool("nosc", {"check", "-e", "exp(sign(g) * sign(m)) * g"}).out);
}

TEST_CASE("nosc: check, fmt and explain work on every example") {
  for (const char* name : kExamples) {
    INFO(name);
    auto check = run_tool("nosc", {"check", example(name)});
    INFO(check.err);
    CHECK(check.exit_code == 0);
    CHECK(check.err.empty());
    CHECK_FALSE(check.out.empty());
    CHECK(run_tool("nosc", {"fmt", example(name)}).exit_code == 0);
    auto explain = run_tool("nosc", {"explain", example(name)});
    CHECK(explain.exit_code == 0);
    CHECK(explain.out.find("canonical hash: ") != std::string::npos);
    CHECK(explain.out.find("== after canonicalize ==") != std::string::npos);
  }
}

TEST_CASE("nosc: explain shows PowerSign's exp as a sign lookup for code generation, and Adam without one") {
  auto powersign = run_tool("nosc", {"explain", "-e", "exp(sign(g) * sign(m)) * g"});
  CHECK(powersign.exit_code == 0);
  std::size_t section = powersign.out.find("== for code generation: sign lookups ==");
  REQUIRE(section != std::string::npos);
  CHECK(powersign.out.find("lookup", section + 40) != std::string::npos);
  auto adam = run_tool("nosc", {"explain", "-e", "adam"});
  CHECK(adam.out.find("sign lookups") == std::string::npos);
}

TEST_CASE("nosc: explain reports state buffers and bytes per parameter") {
  auto adam = run_tool("nosc", {"explain", "-e", "adam"});
  CHECK(adam.out.find("bytes per parameter per step (f32): 28") != std::string::npos);
  auto powersign = run_tool("nosc", {"explain", "-e", "exp(sign(g) * sign(m)) * g"});
  CHECK(powersign.out.find("bytes per parameter per step (f32): 20") != std::string::npos);
  CHECK(powersign.out.find("tokens:  ") != std::string::npos);
  // keep(g, v) never reads v: dead-state elimination drops the buffer.
  auto keep = run_tool("nosc", {"explain", "-e", "keep(g, v)"});
  CHECK(keep.out.find("state buffers: none") != std::string::npos);
  CHECK(keep.out.find("bytes per parameter per step (f32): 12") != std::string::npos);
}

TEST_CASE("nosc: commuted and token-form rules share the canonical hash") {
  auto a = run_tool("nosc", {"check", "--hash", "-e", "exp(sign(g) * sign(m)) * g"});
  auto b = run_tool("nosc", {"check", "--hash", "-e", "g * exp(sign_m * sign_g)"});
  auto c = run_tool("nosc", {"check", "--hash", "--tokens", "sign_g sign_m id id mul o1 g exp id mul"});
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out == c.out);
  auto d = run_tool("nosc", {"check", "--hash", "-e", "(1 + sign(g) * sign(m)) * g"});
  CHECK(a.out != d.out);
}

TEST_CASE("nosc: eval matches independently computed updates") {
  Case c = make_case();
  check_eval({example("sgd")}, reference(c, [](double g, double, double, double, double, double) { return g; }), c);
  check_eval({example("adam"), "--rule-name", "adam"},
             reference(c, [](double, double, double m, double v, double, double) { return m / (std::sqrt(v) + 1e-8); }), c);
  check_eval({example("rmsprop"), "--rule-name", "rmsprop_torch"},
             reference(c, [](double g, double, double, double v, double, double) { return g / (std::sqrt(v) + 1e-8); },
                       0.9, 0.99, false),
             c);
  check_eval({example("powersign"), "--rule-name", "powersign"},
             reference(c, [](double g, double, double m, double, double, double) { return std::exp(sign(g) * sign(m)) * g; }), c);
  check_eval({example("addsign"), "--rule-name", "addsign_ld"},
             reference(c, [](double g, double, double m, double, double t, double T) { return (1 + (1 - t / T) * sign(g) * sign(m)) * g; }), c);
  check_eval({example("powersign"), "--rule-name", "powersign_cd"},
             reference(c, [](double g, double, double m, double, double t, double T) {
               return std::exp(0.5 * (1 + std::cos(2 * M_PI * 0.5 * t / T)) * sign(g) * sign(m)) * g;
             }), c);
  check_eval({"-e", "g + w4"}, reference(c, [](double g, double w, double, double, double, double) { return g + 1e-4 * w; }), c);
}

TEST_CASE("nosc: invalid rules exit 1 with the place and a caret") {
  auto r = run_tool("nosc", {"check", "-e", "exp(sgin(g) * sign(m)) * g"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("<expr>:1:5: error: unknown name 'sgin'; did you mean 'sign'?") != std::string::npos);
  CHECK(r.err.find("    ^~~~") != std::string::npos);
  auto file = run_tool("nosc", {"check", temp_file("bad.dsl", "# comment\nok: g\nbad: (g * m\n")});
  CHECK(file.exit_code == 1);
  CHECK(file.err.find("bad.dsl:3:6:") != std::string::npos);
  auto missing = run_tool("nosc", {"check", "/nonexistent/rule.dsl"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("/nonexistent/rule.dsl") != std::string::npos);
}

TEST_CASE("nosc: eval rejects malformed step files naming the field") {
  auto bad = run_tool("nosc", {"eval", "-e", "g", "--input", temp_file("bad.json", R"({"lr": 0.1, "total_steps": 3, "w": [1, 2], "grads": [[1]]})")});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("\"grads\"[0] has 1 values but \"w\" has 2") != std::string::npos);
  auto garbage = run_tool("nosc", {"eval", "-e", "g", "--input", temp_file("garbage.json", "{lr: ")});
  CHECK(garbage.exit_code == 1);
  CHECK(garbage.err.find("not valid JSON") != std::string::npos);
  auto missing = run_tool("nosc", {"eval", "-e", "g", "--input", temp_file("partial.json", R"({"lr": 0.1})")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("missing \"total_steps\"") != std::string::npos);
}

TEST_CASE("nosc: a rule that can only produce NaN or infinity gets a warning") {
  auto r = run_tool("nosc", {"check", "-e", "log(0) * (g * g + 1)"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning: rule '<anonymous>' can only produce NaN or infinity") != std::string::npos);
  auto fine = run_tool("nosc", {"check", "-e", "exp(g2) * 1e30"});
  CHECK(fine.err.empty());
}
