// Mutation fuzzing of the front end from a corpus of valid rule files: whatever the bytes, the
// parser answers with a tree or a dsl::Error that points inside the text, never a crash, a hang or
// another exception. Seeded, so a failure reproduces; dsl/fuzz/parse_fuzzer.cpp is the open-ended
// libFuzzer version of the same check.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/tokens.h"

using namespace nos::dsl;

namespace {

constexpr int kMutations = 20000;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Files of `dir` whose name ends in `extension`, sorted: directory order varies, and a seed must
// mean one run.
std::vector<std::filesystem::path> files_in(const std::string& dir, const std::string& extension) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(NOS_SOURCE_DIR) / dir))
    if (entry.path().extension() == extension) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Valid rule files: the seeds of the mutation test.
std::vector<std::string> read_corpus() {
  std::vector<std::string> texts;
  for (const auto& path : files_in("tests/dsl/corpus", ".dsl")) texts.push_back(read_text(path));
  return texts;
}

// Bytes the mutator inserts: the language's own characters, and bytes that must be rejected.
char random_byte(std::mt19937_64& rng) {
  static const std::string interesting = "()^*/+-,;:=#.e\n \t0123456789gmvw_";
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    case 1: return std::uniform_int_distribution<int>(0, 1)(rng) ? '\0' : '\xff';
    default: return interesting[std::uniform_int_distribution<std::size_t>(0, interesting.size() - 1)(rng)];
  }
}

std::string mutate(std::string text, std::mt19937_64& rng) {
  int edits = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int e = 0; e < edits; ++e) {
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(rng); };
    std::size_t at = pick(text.size());
    std::size_t length = std::min(text.size() - at, pick(8));
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
      case 0: text.insert(at, 1, random_byte(rng)); break;
      case 1: text.erase(at, length); break;
      case 2:
        if (at < text.size()) text[at] = random_byte(rng);
        break;
      case 3: text.insert(at, text.substr(pick(text.size()), pick(16))); break;  // duplicate a chunk
      case 4: text.insert(at, text.substr(at, length) + text.substr(at, length)); break;  // repeat one
    }
  }
  return text;
}

// What every outcome must satisfy: an error with a message and a place inside the text.
void check_error(const Error& e, const std::string& text) {
  const Diagnostic& d = e.diagnostic();
  REQUIRE_FALSE(d.message.empty());
  REQUIRE(d.source != nullptr);
  REQUIRE(d.source->text == text);
  REQUIRE(std::size_t{d.range.offset} + d.range.length <= text.size());
  REQUIRE(d.range.line >= 1);
  REQUIRE(d.range.column >= 1);
  REQUIRE_FALSE(d.render().empty());
}

struct Outcome {
  bool rule_parsed = false;
  bool tokens_parsed = false;
};

// Reads `text` both as a rule file and as a token sequence. Whatever parses must print back to
// itself; whatever does not must be a well-placed dsl::Error. Any other exception fails the test.
Outcome check_outcome(const std::string& text) {
  Outcome outcome;
  auto source = std::make_shared<Source>(Source{"fuzz", text});
  try {
    Module m = parse_module(source);
    std::string printed = print(m);
    Module again = parse_module(std::make_shared<Source>(Source{"printed", printed}));
    REQUIRE(equal(m, again));
    REQUIRE(print(again) == printed);
    outcome.rule_parsed = true;
  } catch (const Error& e) {
    check_error(e, text);
  }
  try {
    Rule rule = to_rule(parse_tokens(source));
    REQUIRE(equal(parse_rule(print(rule)), rule));
    outcome.tokens_parsed = true;
  } catch (const Error& e) {
    check_error(e, text);
  }
  return outcome;
}

}  // namespace

TEST_CASE("parser: every corpus file parses and round-trips") {
  std::vector<std::string> corpus = read_corpus();
  REQUIRE(corpus.size() >= 20);
  for (const std::string& text : corpus) {
    CAPTURE(text);
    Module m = parse_module(std::make_shared<Source>(Source{"corpus", text}));
    Module again = parse_module(std::make_shared<Source>(Source{"printed", print(m)}));
    CHECK(equal(m, again));
  }
}

TEST_CASE("errors: mutated corpus never crashes the parser or the token reader") {
  std::vector<std::string> corpus = read_corpus();
  REQUIRE_FALSE(corpus.empty());
  std::mt19937_64 rng(1234);
  int parsed = 0;
  for (int i = 0; i < kMutations; ++i) {
    std::string text = mutate(corpus[i % corpus.size()], rng);
    CAPTURE(i);
    parsed += check_outcome(text).rule_parsed;
  }
  // Both outcomes must be common, or the mutator is not exercising the parser.
  CHECK(parsed > kMutations / 20);
  CHECK(parsed < kMutations - kMutations / 20);
}

TEST_CASE("errors: inputs found by the libFuzzer target are answered") {
  // tests/dsl/corpus/fuzz: one small input per kind of outcome libFuzzer reached, any bytes.
  std::vector<std::filesystem::path> files = files_in("tests/dsl/corpus/fuzz", ".in");
  REQUIRE(files.size() >= 20);
  int rules = 0, token_sequences = 0;
  for (const auto& path : files) {
    CAPTURE(path.filename().string());
    Outcome outcome = check_outcome(read_text(path));
    rules += outcome.rule_parsed;
    token_sequences += outcome.tokens_parsed;
  }
  CHECK(rules >= 1);
  CHECK(token_sequences >= 2);
}
