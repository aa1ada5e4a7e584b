// nosc check on hostile sizes, end to end: what it prints reads back, at linear size.
#include <doctest/doctest.h>

#include <string>

#include "run_tool.h"

using nos::testing::run_tool;
using nos::testing::temp_file;

namespace {

// `g m id id add`, then `ok ok id id mul`: written out in full, 2^groups leaves.
std::string squaring_tokens(int groups) {
  std::string text = "g m id id add";
  for (int k = 1; k < groups; ++k) text += " o" + std::to_string(k) + " o" + std::to_string(k) + " id id mul";
  return text;
}

std::string hash_of(const std::string& line) { return line.substr(line.rfind("# ") + 2); }

}  // namespace

TEST_CASE("nosc check: a token rule that reuses results prints small and reads back") {
  for (int groups : {25, 256}) {
    CAPTURE(groups);
    auto tokens = run_tool("nosc", {"check", "--hash", "-t", squaring_tokens(groups)});
    REQUIRE(tokens.exit_code == 0);
    CHECK(tokens.out.size() < static_cast<std::size_t>(24 * groups));
    std::string text = tokens.out.substr(0, tokens.out.find("  # "));
    auto again = run_tool("nosc", {"check", "--hash", "-e", text});
    REQUIRE(again.exit_code == 0);
    CHECK(again.out == tokens.out);
  }
}

TEST_CASE("nosc check: the longest token rule reads back, a longer one is an input error") {
  std::string longest = "adam g exp id add";
  for (int k = 1; k < 256; ++k) longest += " o" + std::to_string(k) + " g exp id add";
  auto r = run_tool("nosc", {"check", "--hash", "-t", longest});
  REQUIRE(r.exit_code == 0);
  std::string text = r.out.substr(0, r.out.find("  # "));
  auto again = run_tool("nosc", {"check", "--hash", temp_file("longest.dsl", text)});
  REQUIRE(again.exit_code == 0);
  CHECK(hash_of(again.out) == hash_of(r.out));

  auto over = run_tool("nosc", {"check", "-t", longest + " o256 g exp id add"});
  CHECK(over.exit_code == 1);
  CHECK(over.err.find("<tokens>:1:") == 0);
  CHECK(over.err.find("error: group 257 is one too many: a token rule has at most 256 groups") != std::string::npos);
}

TEST_CASE("nosc check: out-of-domain constants are input errors naming the place") {
  auto r = run_tool("nosc", {"check", temp_file("domain.dsl", "ok: g\nbad: clip(g, -1)\n")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("domain.dsl:2:14: error: the bound of clip (its second argument) must be at least 0, got -1") !=
        std::string::npos);
}
