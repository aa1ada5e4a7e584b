#include <doctest/doctest.h>

#include <memory>

#include "dsl/diagnostic.h"

using namespace nos::dsl;

namespace {
std::string render(const std::string& text, SourceRange range) {
  auto source = std::make_shared<const Source>(Source{"r.dsl", text});
  return Diagnostic{Severity::Error, source, range, "boom"}.render();
}
}  // namespace

TEST_CASE("diagnostic: caret under the range on its own line") {
  CHECK(render("a\nbc + de\n", {5, 2, 2, 4}) == "r.dsl:2:4: error: boom\n  bc + de\n     ^~\n");
}

TEST_CASE("diagnostic: ranges at the start, at a newline and past the end never throw") {
  CHECK(render("\nx", {0, 3, 1, 1}) == "r.dsl:1:1: error: boom\n  \n  ^\n");
  CHECK(render("ab\n", {2, 5, 1, 3}) == "r.dsl:1:3: error: boom\n  ab\n    ^\n");
  CHECK(render("ab", {99, 1, 1, 3}) == "r.dsl:1:3: error: boom\n  ab\n    ^\n");
  CHECK(render("", {0, 0, 1, 1}) == "r.dsl:1:1: error: boom\n  \n  ^\n");
}

TEST_CASE("diagnostic: control bytes are shown as '?' so the caret stays aligned") {
  CHECK(render(std::string("a\0b", 3), {1, 1, 1, 2}) == "r.dsl:1:2: error: boom\n  a?b\n   ^\n");
}

TEST_CASE("diagnostic: without a source only the message is printed") {
  CHECK(Diagnostic{Severity::Warning, nullptr, {}, "careful"}.render() == "warning: careful\n");
}
