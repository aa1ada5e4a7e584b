// The one compile API (compiler/compile.h): every way a rule comes in gives the same compiled
// rule, and every mistake in the input is a dsl::Error that names the place.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/compile.h"
#include "compiler/passes.h"

using namespace nos;
using compiler::RuleSource;

namespace {

std::string write_rules(const std::string& name, const std::string& text) {
  std::filesystem::path dir = std::filesystem::path(NOS_BINARY_DIR) / "test-tmp" / "compile_api";
  std::filesystem::create_directories(dir);
  std::filesystem::path path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const RuleSource& source) {
  try {
    compiler::compile_one(source);
  } catch (const dsl::Error& e) {
    return e.diagnostic().render();
  }
  return "";
}

}  // namespace

TEST_CASE("compile API: text, file + name and tokens give the same rule") {
  std::string file = write_rules("two.dsl", "sgd: g\npowersign: exp(sign(g) * sign(m)) * g\n");
  compiler::CompiledRule text = compiler::compile_one(RuleSource::text("exp(sign(g) * sign(m)) * g"));
  compiler::CompiledRule named = compiler::compile_one(RuleSource::file(file, "powersign"));
  compiler::CompiledRule tokens = compiler::compile_one(RuleSource::tokens("sign_g sign_m id id mul o1 g exp id mul"));
  CHECK(text.hash == named.hash);
  CHECK(text.hash == tokens.hash);
  CHECK(text.canonical_text == named.canonical_text);
  CHECK(named.name == "powersign");
  CHECK(named.display() == "powersign: exp(sign(g) * sign(m)) * g");
  CHECK(text.name.empty());
  CHECK(text.display_name() == "<anonymous>");
  CHECK(text.hash_hex() == ir::hash_hex(ir::canonical_hash(text.optimized)));
  CHECK(text.tokens.has_value());
  CHECK(tokens.tokens.has_value());
  CHECK(compiler::compile_all(RuleSource::file(file)).size() == 2);
}

TEST_CASE("compile API: the canonical text is an identity: compiling it back gives the same hash") {
  for (const char* rule : {"g * exp(sign_m * sign_g)", "adam", "(1 + ld * sign(g) * sign(m)) * g", "g + w4"}) {
    CAPTURE(rule);
    compiler::CompiledRule first = compiler::compile_text(rule);
    compiler::CompiledRule again = compiler::compile_text(first.canonical_text);
    CHECK(again.hash == first.hash);
    CHECK(again.canonical_text == first.canonical_text);
  }
}

TEST_CASE("compile API: the IR before and after the passes, and the trace when asked") {
  compiler::CompiledRule plain = compiler::compile_text("g * 1");
  CHECK(plain.trace.empty());
  CHECK(plain.lowered.body.size() > plain.optimized.body.size());
  compiler::CompiledRule traced = compiler::compile_text("g * 1", {.trace = true});
  REQUIRE_FALSE(traced.trace.empty());
  CHECK(traced.trace.back().after == traced.optimized);
}

TEST_CASE("compile API: the NaN/inf verdict is a warning placed in the rule") {
  compiler::CompiledRule bad = compiler::compile_text("log(0) * (g * g + 1)");
  REQUIRE(bad.non_finite.has_value());
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics[0].severity == dsl::Severity::Warning);
  CHECK(bad.diagnostics[0].render().find("<expr>:1:1: warning: rule '<anonymous>' can only produce NaN") == 0);
  CHECK_FALSE(compiler::compile_text("g").non_finite.has_value());
  CHECK_FALSE(compiler::compile_text("log(0) * g", {.check_non_finite = false}).non_finite.has_value());
}

TEST_CASE("compile API: every input mistake is a dsl::Error naming the place") {
  CHECK(error_of(RuleSource::text("exp(sgin(g))")).find("<expr>:1:5: error: unknown name 'sgin'") == 0);
  CHECK(error_of(RuleSource::tokens("sign_g frob")).find("<tokens>:") == 0);
  std::string file = write_rules("three.dsl", "a: g\nb: m\nc: v\n");
  CHECK(error_of(RuleSource::file(file)).find(file + " holds 3 rules; pick one by name (--rule-name): a b c") !=
        std::string::npos);
  CHECK(error_of(RuleSource::file(file, "d")).find(file + ": no rule named 'd'; it holds: a b c") != std::string::npos);
  CHECK(error_of(RuleSource::file("/nonexistent/x.dsl")).find("/nonexistent/x.dsl") != std::string::npos);
  std::string dir = std::filesystem::path(file).parent_path().string();
  CHECK(error_of(RuleSource::file(dir)).find("Is a directory") != std::string::npos);
}

TEST_CASE("compile API: --rule's file-or-text reading") {
  std::string file = write_rules("one.dsl", "g\n");
  CHECK(RuleSource::file_or_text(file).kind == RuleSource::Kind::File);
  CHECK(RuleSource::file_or_text("missing.dsl").kind == RuleSource::Kind::File);  // reported as missing
  CHECK(RuleSource::file_or_text("exp(g) * g").kind == RuleSource::Kind::Text);
}
