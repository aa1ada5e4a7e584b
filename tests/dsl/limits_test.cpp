// The input limits of a rule source (source_file.h: kMaxSourceBytes, kMaxRules), the bounded reading of
// rule files (source_file.h) and the bounded rendering of errors (diagnostic.h): whatever the
// input, memory, time and the error's length stay bounded.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "dsl/diagnostic.h"
#include "dsl/excerpt.h"
#include "dsl/parser.h"
#include "dsl/source_file.h"

using namespace nos::dsl;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.diagnostic().render();
  }
  return "(no error)";
}

std::string parse_error(const std::string& text) {
  return error_of([&] { parse_module(std::make_shared<Source>(Source{"big.dsl", text})); });
}

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("nos-dsl-limits-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("limits: a rule source holds at most kMaxSourceBytes") {
  std::string fits(kMaxSourceBytes - 1, ' ');
  fits += "g";
  CHECK(parse_module(std::make_shared<Source>(Source{"big.dsl", fits})).rules.size() == 1);
  std::string message = parse_error(fits + " ");
  CHECK(message == "error: big.dsl: the rule source is 1048577 bytes; a rule source holds at most 1 MiB (1048576 bytes)\n");
}

TEST_CASE("limits: a source holds at most kMaxRules rules, and the message names the next") {
  std::string text;
  for (int k = 0; k < kMaxRules; ++k) text += "g;";
  CHECK(parse_module(std::make_shared<Source>(Source{"many.dsl", text})).rules.size() == static_cast<std::size_t>(kMaxRules));
  std::string message = parse_error(text + "m");
  CHECK(contains(message, "big.dsl:1:20001: error: rule 10001 is one too many: a rule source holds at most 10000 rules"));
}

TEST_CASE("limits: errors on a long line quote a bounded excerpt around the place") {
  std::string name(900000, 'a');
  std::string message = parse_error("g * " + name + " + m");
  CAPTURE(message.substr(0, 300));
  CHECK(message.size() < kMaxMessageBytes + 3 * kMaxLineBytes + 200);
  CHECK(contains(message, "big.dsl:1:5: error: unknown name 'aaaa"));
  CHECK(contains(message, "... (9000"));  // the message says how long the quoted name was
  // The caret still points at the place, inside the shown window.
  message = parse_error("g" + std::string(300000, ' ') + ")");
  CHECK(message.size() < kMaxMessageBytes + 3 * kMaxLineBytes + 200);
  std::size_t line = message.find("\n  ") + 3, caret_line = message.find("\n  ", line) + 3;
  std::size_t caret = message.find('^', caret_line) - caret_line;
  CHECK(message.substr(line, caret_line - line).size() <= kMaxLineBytes + 8);
  CHECK(message[line + caret] == ')');
}

TEST_CASE("limits: excerpt never splits a UTF-8 character") {
  std::string text = "ab\xc3\xa9" "cd";  // "abécd"
  CHECK(excerpt(text, 10) == text);
  CHECK(excerpt(text, 3) == "ab... (6 bytes in all)");
  CHECK(excerpt(text, 4) == "ab\xc3\xa9... (6 bytes in all)");
}

TEST_CASE("limits: only a regular file is read, and only up to the limit") {
  std::filesystem::path fifo = scratch("rules.fifo");
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A FIFO would block the reader until a writer comes; it is refused before it is opened.
  CHECK(contains(error_of([&] { parse_file(fifo.string()); }),
                 "cannot open '" + fifo.string() + "': it is a FIFO (named pipe); a rule file must be a regular file"));
  CHECK(contains(error_of([&] { parse_file("/dev/zero"); }), "cannot open '/dev/zero': it is a character device"));
  CHECK(contains(error_of([&] { parse_file(scratch("").string()); }), "Is a directory"));

  std::filesystem::path big = scratch("big.dsl");
  std::ofstream(big) << std::string(kMaxSourceBytes, ' ') << "g";
  CHECK(contains(error_of([&] { parse_file(big.string()); }),
                 "'" + big.string() + "' is 1048577 bytes; a rule file holds at most 1 MiB (1048576 bytes)"));
  std::ofstream(big) << "g\n";
  CHECK(parse_file(big.string()).rules.size() == 1);
  CHECK(read_file(big.string(), 2, "test file") == "g\n");
  CHECK(contains(error_of([&] { read_file(big.string(), 1, "test file"); }), "a test file holds at most 1 byte"));
  std::filesystem::remove_all(scratch(""));
}
