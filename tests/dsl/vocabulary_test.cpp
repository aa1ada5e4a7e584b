#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "dsl/semantics.h"
#include "dsl/vocabulary.h"

using namespace nos::dsl;

TEST_CASE("vocabulary: function rows are in Fn order and unique") {
  std::set<std::string_view> names;
  for (int i = 0; i < kNumFunctions; ++i) {
    CHECK(static_cast<int>(functions()[i].fn) == i);
    CHECK(names.insert(functions()[i].name).second);
  }
  CHECK(find_function("clip")->arity == 2);
  CHECK(find_infix("^")->fn == Fn::Pow);
  CHECK(find_infix("%") == nullptr);
}

TEST_CASE("vocabulary: docs/dsl.md documents every function and every sampled token") {
  std::ifstream in(std::string(NOS_SOURCE_DIR) + "/docs/dsl.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  for (const FunctionInfo& f : functions()) {
    CAPTURE(std::string(f.name));
    CHECK(doc.find("`" + std::string(f.name) + "(") != std::string::npos);  // its row of the Functions table
  }
  std::size_t table = doc.find("| u1, u2 |");
  REQUIRE(table != std::string::npos);
  std::string unary_row = doc.substr(table, doc.find('\n', table) - table);
  std::set<std::string> words;  // the row's words between spaces and backticks
  std::string word;
  for (char c : unary_row + " ") {
    if (c == ' ' || c == '`') {
      if (!word.empty()) words.insert(word);
      word.clear();
    } else {
      word += c;
    }
  }
  for (const TokenInfo& t : tokens(Slot::Unary)) {
    CAPTURE(std::string(t.spelling));
    CHECK(words.count(std::string(t.spelling)) == 1);
  }
}

TEST_CASE("vocabulary: token slots match DSL.md") {
  CHECK(tokens(Slot::Operand).size() == 21);  // g g2 g3 m v y sign_g sign_m 1 2 eps w4..w1 adam rmsprop ld cd rd noise
  CHECK(tokens(Slot::Unary).size() == 12);
  CHECK(tokens(Slot::Binary).size() == 6);
  CHECK(find_token(Slot::Operand, "w") == nullptr);  // text form only
  CHECK(find_token(Slot::Unary, "clip4")->param == doctest::Approx(1e-4));
  CHECK(find_token(Slot::Unary, "drop3")->fn == Fn::Drop);
}

TEST_CASE("semantics: edge cases of DSL.md") {
  CHECK(nos_sign(0.0f) == 0.0f);
  CHECK(nos_sign(-3.0f) == -1.0f);
  CHECK(nos_log(-1.0f) == 0.0f);
  CHECK(nos_sqrt(-4.0f) == 2.0f);
  CHECK(nos_pow(-8.0f, 1.0f / 3.0f) == doctest::Approx(-2.0f));
  CHECK(nos_div(1.0f, 0.0f, 1e-8f) == doctest::Approx(1e8f));
  CHECK(nos_clip(5.0f, 1e-3f) == 1e-3f);
  CHECK(nos_clip(-5.0f, 1e-3f) == -1e-3f);
  CHECK(nos_drop(7.0f, 0.3f, 0.2f) == 0.0f);
  CHECK(nos_drop(7.0f, 0.3f, 0.3f) == 7.0f);
  CHECK(nos_keep(1.0f, 2.0f) == 1.0f);
}

TEST_CASE("vocabulary: nearest names for typos") {
  CHECK(nearest_name("sgin") == std::string_view("sign"));
  CHECK(nearest_name("adma") == std::string_view("adam"));
  CHECK(nearest_name("beta_2") == std::string_view("beta2"));
  CHECK_FALSE(nearest_name("completely_unrelated").has_value());
}
