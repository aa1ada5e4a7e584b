// One test per kind of error, most checking the full rendered diagnostic: the place is part of the
// contract, as much as the words.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "dsl/parser.h"
#include "dsl_test_util.h"

using namespace nos::dsl;
using nos::dsl::test::error_of;
using nos::dsl::test::message_of;

TEST_CASE("errors: unknown name with a suggestion") {
  CHECK(error_of("exp(sgin(g) * sign_m) * g", "rule.dsl") ==
        "rule.dsl:1:5: error: unknown name 'sgin'; did you mean 'sign'?\n"
        "  exp(sgin(g) * sign_m) * g\n"
        "      ^~~~\n");
  CHECK(error_of("rmsprp * g") ==
        "<expr>:1:1: error: unknown name 'rmsprp'; did you mean 'rmsprop'?\n"
        "  rmsprp * g\n"
        "  ^~~~~~\n");
  CHECK(message_of("g * completely_unrelated") == "unknown name 'completely_unrelated'");
  CHECK(message_of("clip4(g)") == "'clip4' is a token-form name; in text write clip(x, 1e-4)");
  CHECK(message_of("drop3 * g") == "'drop3' is a token-form name; in text write drop(x, 0.3)");
}

TEST_CASE("errors: a function used as an operand") {
  CHECK(error_of("g * exp") ==
        "<expr>:1:5: error: 'exp' is a function; call it as exp(x)\n"
        "  g * exp\n"
        "      ^~~\n");
  CHECK(message_of("clip + g") == "'clip' is a function; call it as clip(x, y)");
}

TEST_CASE("errors: an operand called like a function") {
  CHECK(error_of("g(m)") ==
        "<expr>:1:1: error: 'g' is an operand, not a function\n"
        "  g(m)\n"
        "  ^\n");
}

TEST_CASE("errors: wrong number of arguments") {
  CHECK(error_of("2 * clip(g)") ==
        "<expr>:1:5: error: clip takes 2 arguments, got 1\n"
        "  2 * clip(g)\n"
        "      ^~~~~~~\n");
  CHECK(message_of("exp(g, m)") == "exp takes 1 argument, got 2");
  CHECK(message_of("exp()") == "exp takes 1 argument, got 0");
  CHECK(message_of("div(g)") == "div takes 2 or 3 arguments, got 1");
  CHECK(message_of("div(g, m, 1, 2)") == "div takes 2 or 3 arguments, got 4");
}

TEST_CASE("errors: the delta of div must be constant") {
  CHECK(error_of("div(g, m, v)") ==
        "<expr>:1:11: error: the delta of div (its last argument) must be constant: numbers and `with` names\n"
        "  div(g, m, v)\n"
        "            ^\n");
  CHECK(message_of("div(g, m, drop(1, 0.5))").starts_with("the delta of div"));
  CHECK(message_of("div(g, m, 2 * d) with d = 1e-6") == "");
}

TEST_CASE("errors: constant arguments outside their domain") {
  CHECK(error_of("clip(g, -1)", "rule.dsl") ==
        "rule.dsl:1:9: error: the bound of clip (its second argument) must be at least 0, got -1\n"
        "  clip(g, -1)\n"
        "          ^~\n");
  CHECK(error_of("g + drop(m, 1.5)") ==
        "<expr>:1:13: error: the probability of drop (its second argument) must be between 0 and 1, got 1.5\n"
        "  g + drop(m, 1.5)\n"
        "              ^~~\n");
  CHECK(error_of("div(g, m, -1e-8)") ==
        "<expr>:1:11: error: the delta of div (its last argument) must be between 0 and 1, got -1e-8\n"
        "  div(g, m, -1e-8)\n"
        "            ^~~~~\n");
  // The call form agrees with the `with` form of the same setting.
  CHECK(message_of("g / m with delta = -1e-8") == "'delta' must be between 0 and 1, got -1e-8");
  CHECK(message_of("div(g, m, 2)") == "the delta of div (its last argument) must be between 0 and 1, got 2");
  // Any constant expression is evaluated, `with` names, settings and definitions included.
  CHECK(message_of("drop(g, p) with p = -0.5") ==
        "the probability of drop (its second argument) must be between 0 and 1, got -0.5");
  CHECK(message_of("drop(g, 0.5 + 0.75)") ==
        "the probability of drop (its second argument) must be between 0 and 1, got 1.25");
  CHECK(message_of("b = 1 - 3; clip(g, b)") == "the bound of clip (its second argument) must be at least 0, got -2");
  CHECK(message_of("clip(g, log(0))") == "the bound of clip (its second argument) must be at least 0, got -inf");
  CHECK(message_of("clip(g, delta - 1)") == "the bound of clip (its second argument) must be at least 0, got -1");
  CHECK(message_of("clip(g, div(0, 0, 0))") == "the bound of clip (its second argument) must be at least 0, got nan");
  // The edges of each domain are in it; an argument that is not constant cannot be checked here.
  for (const char* fine : {"clip(g, 0)", "clip(g, 1e30)", "drop(g, 0)", "drop(g, 1)", "div(g, m, 0)", "div(g, m, 1)",
                           "clip(g, m)", "drop(g, p) with p = 0.25", "clip(g, -(-1))"})
    CHECK_MESSAGE(message_of(fine) == "", fine);
}

TEST_CASE("errors: the probability of drop must be constant (it keys the mask)") {
  CHECK(error_of("drop(g, m)") ==
        "<expr>:1:9: error: the probability of drop (its second argument) must be constant: numbers and `with` names\n"
        "  drop(g, m)\n"
        "          ^\n");
  CHECK(message_of("drop(g, drop(0.5, 0.5))").starts_with("the probability of drop"));
  CHECK(message_of("drop(g, p / 2) with p = 0.6") == "");
}

TEST_CASE("errors: unclosed and unmatched parentheses") {
  CHECK(error_of("exp(g * (m + v)") ==
        "<expr>:1:4: error: '(' is never closed\n"
        "  exp(g * (m + v)\n"
        "     ^\n");
  CHECK(error_of("(g + m") ==
        "<expr>:1:1: error: '(' is never closed\n"
        "  (g + m\n"
        "  ^\n");
  CHECK(error_of("g * m)") ==
        "<expr>:1:6: error: unmatched ')'\n"
        "  g * m)\n"
        "       ^\n");
  CHECK(message_of(")") == "unmatched ')'");
  CHECK(message_of("(g m)") == "expected ')' or an operator, found 'm'");
  CHECK(message_of("clip(g 2)") == "expected ',' or ')' in the call of clip, found '2'");
}

TEST_CASE("errors: missing operand") {
  CHECK(error_of("g *") ==
        "<expr>:1:4: error: expected an operand after '*', but the rule ends here\n"
        "  g *\n"
        "     ^\n");
  CHECK(message_of("g * * m") == "expected an operand after '*', found '*'");
  CHECK(message_of("exp(g, )") == "expected an operand after ',', found ')'");
  CHECK(message_of("a: ") == "expected an expression, but the rule ends here");
  CHECK(message_of("g * with") == "expected an operand after '*', found 'with'");
}

TEST_CASE("errors: bad literals") {
  CHECK(error_of("g * 1e") ==
        "<expr>:1:5: error: bad number '1e': the exponent has no digits\n"
        "  g * 1e\n"
        "      ^~\n");
  CHECK(message_of("1.2.3") == "bad number '1.2.3'");
  CHECK(message_of("g * 1e99") == "number '1e99' does not fit in float32");
}

TEST_CASE("errors: empty input") {
  CHECK(error_of("") == "<expr>:1:1: error: empty rule: expected an expression\n  \n  ^\n");
  CHECK(message_of("  # only a comment\n\n") == "empty rule: expected an expression");
  // Found by the fuzzer: a range at offset 0 on a line break once broke the caret line.
  CHECK(error_of("\n") == "<expr>:2:1: error: empty rule: expected an expression\n  \n  ^\n");
  CHECK(error_of("\n\n  ") == "<expr>:3:3: error: empty rule: expected an expression\n    \n    ^\n");
}

TEST_CASE("errors: trailing garbage") {
  CHECK(error_of("g m") ==
        "<expr>:1:3: error: expected an operator, ';' or the end of the rule, found 'm'\n"
        "  g m\n"
        "    ^\n");
  CHECK(message_of("g with beta1 = 0.5 m") == "expected ',', ';' or the end of the rule, found 'm'");
  CHECK(message_of("g; m") == "expected one rule, found a second one");
}

TEST_CASE("errors: binary input") {
  CHECK(error_of(std::string("g *\0 m", 6)) ==
        "<expr>:1:4: error: file is not text: byte 0x00 at offset 3\n"
        "  g *? m\n"
        "     ^\n");
  CHECK(message_of("\xff\xfe") == "file is not text: byte 0xff at offset 0 (invalid UTF-8)");
}

TEST_CASE("errors: unexpected character") {
  CHECK(error_of("g % m") ==
        "<expr>:1:3: error: unexpected character '%'\n"
        "  g % m\n"
        "    ^\n");
}

TEST_CASE("errors: nesting too deep") {
  // The limit is kMaxHeight, the height of the tree as it prints back from the IR (ast.h).
  const int over = kMaxHeight + 1;
  std::string parens = std::string(over, '(') + "g" + std::string(over, ')');
  CHECK(message_of(parens) == "expression nested too deeply");
  CHECK(message_of(std::string(over, '-') + "g") == "expression nested too deeply");
  std::string powers;
  for (int i = 0; i < over; ++i) powers += "2^";
  CHECK(message_of(powers + "2") == "expression nested too deeply");
  // A long flat chain is not deep syntax, but its tree is as deep as a nested one.
  std::string chain = "g";
  for (int i = 0; i < over; ++i) chain += " + g";
  CHECK(message_of(chain) == "expression nested too deeply");
  // At the limit exactly: a chain of kMaxHeight - 1 additions over g is kMaxHeight high.
  std::string longest = "g";
  for (int i = 0; i < kMaxHeight - 1; ++i) longest += " + g";
  CHECK(message_of(longest) == "");
  CHECK(message_of(longest + " + g") == "expression nested too deeply");
  // Operands count as high as they print from the IR: adam is m / sqrt(v), 3 levels.
  std::string on_adam = "adam";
  for (int i = 0; i < kMaxHeight - 3; ++i) on_adam += " + g";
  CHECK(message_of(on_adam) == "");
  CHECK(message_of(on_adam + " + g") == "expression nested too deeply");
  // Through a definition the height adds up: names share a tree, they do not shorten it.
  std::string half;
  for (int i = 0; i < kMaxHeight / 2 + 1; ++i) half += " + g";
  CHECK(message_of("x = g" + half + "; x" + half) == "expression nested too deeply");
  CHECK(message_of("x = g" + half + "; x + x") == "");
  std::string fine = std::string(200, '(') + "g" + std::string(200, ')');
  CHECK(message_of(fine) == "");
}

TEST_CASE("errors: with clause bindings") {
  CHECK(error_of("g with beta_2 = 0.99") ==
        "<expr>:1:8: error: 'beta_2' is not a setting and the rule does not use it; did you mean 'beta2'?\n"
        "  g with beta_2 = 0.99\n"
        "         ^~~~~~\n");
  CHECK(message_of("g * a with a = 1, zzz = 2") == "'zzz' is not a setting and the rule does not use it");
  CHECK(message_of("g * a with a = 1, a = 2") == "duplicate binding 'a' (first bound at line 1, column 12)");
  CHECK(message_of("g with g = 2") == "'g' is an operand; a `with` name cannot shadow it");
  CHECK(message_of("g with exp = 2") == "'exp' is a function; a `with` name cannot shadow it");
  CHECK(message_of("g with with = 2") == "'with' is a keyword and cannot be bound");
  CHECK(message_of("g with beta2 = 1.5") == "'beta2' must be between 0 and 0.99999994, got 1.5");
  CHECK(message_of("g with beta2 = -0.5") == "'beta2' must be between 0 and 0.99999994, got -0.5");
  CHECK(message_of("g with beta2 = on") == "'beta2' takes a number, got 'on'");
  CHECK(message_of("g with bias_correction = 0.5") == "'bias_correction' is a switch: on or off, got 0.5");
  CHECK(message_of("g with bias_correction = maybe") == "'bias_correction' is a switch: on or off, got 'maybe'");
  CHECK(message_of("g with beta2 0.9") == "expected '=' after 'beta2', found '0.9'");
  CHECK(message_of("g with beta2 =") == "expected a value for 'beta2': a number, but the rule ends here");
  CHECK(message_of("g with") == "expected a name to bind after 'with', but the rule ends here");
  CHECK(message_of("g with beta2 = 0.5,") == "expected a name to bind after ',', but the rule ends here");
  CHECK(message_of("g * alpah with alpha = 2").starts_with("unknown name 'alpah'"));
}

TEST_CASE("errors: rule names") {
  auto parse = [](std::string text) {
    try {
      parse_module(std::make_shared<Source>(Source{"m.dsl", std::move(text)}));
    } catch (const Error& e) {
      return e.diagnostic().render();
    }
    return std::string();
  };
  CHECK(parse("a: g\nb: m\na: v\n") ==
        "m.dsl:3:1: error: duplicate rule name 'a' (first defined at line 1, column 1)\n"
        "  a: v\n"
        "  ^\n");
  CHECK(parse("with: g").starts_with("m.dsl:1:1: error: 'with' is a keyword and cannot name a rule"));
  CHECK(parse("g;;m").starts_with("m.dsl:1:3: error: expected an expression, found ';'"));
}

TEST_CASE("errors: positions in multi-line files") {
  auto source = std::make_shared<Source>(Source{"opt.dsl",
                                                "# two rules\n"
                                                "sgd: g\n"
                                                "power: exp(sign_g *\n"
                                                "           sign_mm) * g\n"});
  try {
    parse_module(source);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.diagnostic().render() ==
          "opt.dsl:4:12: error: unknown name 'sign_mm'; did you mean 'sign_m'?\n"
          "             sign_mm) * g\n"
          "             ^~~~~~~\n");
  }
}

TEST_CASE("errors: files that cannot be read") {
  auto check_message = [](const std::string& path, const std::string& expected) {
    try {
      parse_file(path);
      FAIL("expected an error for " << path);
    } catch (const Error& e) {
      CHECK(e.diagnostic().render() == expected);
    }
  };
  check_message("/nonexistent/x.dsl", "error: cannot open '/nonexistent/x.dsl': No such file or directory\n");
  std::filesystem::path dir = std::filesystem::path(NOS_BINARY_DIR) / "tests" / "dsl_errors_test";
  std::filesystem::create_directories(dir);
  check_message(dir.string(), "error: cannot open '" + dir.string() + "': Is a directory\n");

  std::string binary = (dir / "binary.dsl").string();
  std::ofstream(binary, std::ios::binary) << std::string("\x7f" "ELF\0\0", 6);
  check_message(binary, binary + ":1:1: error: file is not text: byte 0x7f at offset 0\n  \x7f" "ELF??\n  ^\n");

  std::string empty = (dir / "empty.dsl").string();
  std::ofstream(empty, std::ios::binary) << "# nothing here\n";
  check_message(empty, empty + ":2:1: error: empty rule: expected an expression\n  \n  ^\n");
}
