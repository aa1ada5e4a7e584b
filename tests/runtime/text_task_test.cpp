// The text task end to end: nos-data fortunes on fortune files the test writes (their windows,
// byte for byte, and every bad input), nos-train refusing token data for models that need numbers
// and numbers for the text models, both text models training on token ids, and textcnn learning
// language identification on Debian's fortunes when they are installed (skipped, saying so, when
// not). nos-data fortunes-lm the same way: its windows without y on the written files, its
// refusals, and textrnn learning next bytes of Debian's English fortunes where installed.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../tools/run_tool.h"
#include "numpy_files.h"
#include "runtime/data/dataset.h"
#include "test_data_files.h"

using namespace nos::testing;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// ROOT (English: two fortunes, an empty file, an index and a link to skip) and ROOT/de.
std::string fortune_fixture(const std::string& name) {
  fs::path root = temp_dir(name);
  write_text(root / "a", "Hello  world\n%\nSecond\tone\n%\n");
  write_text(root / "b", "");
  write_text(root / "a.dat", "binary index: not text");
  fs::create_symlink("a", root / "a.u8");                   // Debian's .u8 links: the same text again
  write_text(root / "de" / "c", "Guten Tag\n");
  fs::create_symlink(root / "de" / "c", root / "c-link");  // fortunes-it links its files into ROOT
  return root.string();
}

std::string row_text(const nos::runtime::Dataset& d, std::int64_t row) {
  std::string text;
  for (std::int64_t i = 0; i < d.shape[0]; ++i) text.push_back(static_cast<char>(d.features[row * d.shape[0] + i]));
  return text;
}

}  // namespace

TEST_CASE("nos-data fortunes cuts each language's text into balanced windows of byte ids") {
  std::string root = fortune_fixture("fortunes_ok");
  std::string out = root + "/out.npz";
  ToolResult r = run_tool("nos-data", {"fortunes", out, "--root", root, "--languages", "en,de", "--length", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "4 windows of 4 bytes, 2 per language"));
  CHECK(contains(r.out, "class 0  en"));
  CHECK(contains(r.out, "class 1  de"));
  // en is "Hello world Second one" (whitespace collapsed, fortunes joined by a space): 5 windows, of
  // which 2 are taken, spread over the text (0 and 2); de is "Guten Tag": 2 windows.
  nos::runtime::Dataset d = nos::runtime::load_dataset(out);
  REQUIRE(d.size() == 4);
  CHECK(d.shape == std::vector<std::int64_t>{4});
  CHECK(d.is_sequence());
  CHECK(d.vocabulary == 'u' + 1);
  CHECK(row_text(d, 0) == "Hell");
  CHECK(row_text(d, 1) == "rld ");
  CHECK(row_text(d, 2) == "Gute");
  CHECK(row_text(d, 3) == "n Ta");
  CHECK(d.labels == std::vector<std::int64_t>{0, 0, 1, 1});
  // NAME=DIR names a directory of its own; --per-language caps the windows.
  r = run_tool("nos-data", {"fortunes", out, "--languages", "x=" + root, "y=" + root + "/de", "--length", "4",
                            "--per-language", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "2 windows of 4 bytes, 1 per language"));
}

TEST_CASE("nos-data fortunes refuses a missing directory, a language without text and command-line mistakes") {
  std::string root = fortune_fixture("fortunes_bad");
  std::string out = root + "/out.npz";
  auto data = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"fortunes", out, "--root", root, "--length", "4"});
    return run_tool("nos-data", args);
  };
  ToolResult r = data({"--languages", "en,fr"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, root + "/fr: no such directory (the fortunes of language 'fr'; on Debian the package "
                             "fortunes-fr installs them)"));
  r = run_tool("nos-data", {"fortunes", out, "--root", root + "/none", "--languages", "en,de"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, root + "/none: no such directory"));
  // Empty files, and files of nothing but separators and control bytes, hold no text.
  write_text(fs::path(root) / "es" / "empty", "");
  write_text(fs::path(root) / "es" / "separators", "%\n%\n\x01\x1b\n%\n");
  r = data({"--languages", "en,es"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, root + "/es: no text for language 'es': 2 fortune file(s) hold 0 byte(s), less than one "
                             "window of 4"));
  fs::create_directories(fs::path(root) / "pl");
  r = data({"--languages", "en,pl"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no text for language 'pl': 0 fortune file(s)"));
  // Text shorter than one window is no text either.
  r = run_tool("nos-data", {"fortunes", out, "--root", root, "--languages", "en,de", "--length", "16"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no text for language 'de': 1 fortune file(s) hold 9 byte(s), less than one window of 16"));
  CHECK_FALSE(fs::exists(out));  // nothing written on any failure

  for (auto [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--languages", "en"}, "--languages: give at least 2 languages"},
           {{"--languages", "en,de,en"}, "--languages: 'en' is given twice"},
           {{"--languages", "en,../x"}, "--languages: language '../x': a name of letters"},
           {{"--languages", "en,de=", }, "no directory after '='"},
           {{"--length", "0"}, "--length"},
           {{"--per-language", "-1"}, "--per-language"}}) {
    CAPTURE(message);
    r = data(args);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, message));
  }
  r = run_tool("nos-data", {"fortunes", root + "/no/such/dir/out.npz", "--root", root, "--languages", "en,de",
                            "--length", "4"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no/such/dir/out.npz"));
  CHECK(r.err.rfind("nos-data: error: ", 0) == 0);  // the message names the tool
}

TEST_CASE("nos-data fortunes-lm cuts one language's text into windows of byte ids without labels") {
  std::string root = fortune_fixture("fortunes_lm_ok");
  std::string out = temp_dir("fortunes_lm_ok_out") + "/lm.npz";  // not in ROOT: it would be read as a fortune file
  ToolResult r = run_tool("nos-data", {"fortunes-lm", out, "--root", root, "--length", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // en is "Hello world Second one": 22 bytes, 5 windows of 4, all taken.
  CHECK(contains(r.out, "5 windows of 4 bytes of en (5 available in "));
  CHECK(contains(r.out, "each window 3 next-byte predictions (objective lm)"));
  nos::runtime::Dataset d = nos::runtime::load_dataset(out);
  REQUIRE(d.size() == 5);
  CHECK(d.shape == std::vector<std::int64_t>{4});
  CHECK(d.is_sequence());
  CHECK_FALSE(d.has_labels());  // no y: the objective lm (inferred, docs/tasks.md)
  CHECK_FALSE(d.has_targets());
  const char* windows[] = {"Hell", "o wo", "rld ", "Seco", "nd o"};
  for (std::int64_t row = 0; row < 5; ++row) CHECK(row_text(d, row) == windows[row]);
  // --windows spreads fewer over the text (windows 0 and 2 of 5).
  r = run_tool("nos-data", {"fortunes-lm", out, "--root", root, "--length", "4", "--windows", "2"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "2 windows of 4 bytes of en (5 available"));
  d = nos::runtime::load_dataset(out);
  REQUIRE(d.size() == 2);
  CHECK(row_text(d, 0) == "Hell");
  CHECK(row_text(d, 1) == "rld ");
  // --language NAME=DIR reads another directory.
  r = run_tool("nos-data", {"fortunes-lm", out, "--language", "de=" + root + "/de", "--length", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "2 windows of 4 bytes of de"));
  d = nos::runtime::load_dataset(out);
  REQUIRE(d.size() == 2);
  CHECK(row_text(d, 0) == "Gute");
  CHECK(row_text(d, 1) == "n Ta");
}

TEST_CASE("nos-data fortunes-lm refuses a missing directory, a language without text and command-line mistakes") {
  std::string root = fortune_fixture("fortunes_lm_bad");
  std::string out = root + "/lm.npz";
  ToolResult r = run_tool("nos-data", {"fortunes-lm", out, "--root", root, "--language", "fr"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, root + "/fr: no such directory"));
  r = run_tool("nos-data", {"fortunes-lm", out, "--root", root, "--language", "de", "--length", "16"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no text for language 'de': 1 fortune file(s) hold 9 byte(s), less than one window of 16"));
  r = run_tool("nos-data", {"fortunes-lm", root + "/no/such/dir/lm.npz", "--root", root, "--length", "4"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "no/such/dir/lm.npz"));
  CHECK_FALSE(fs::exists(out));  // nothing written on any failure
  for (auto [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--length", "1"}, "--length"},  // one byte predicts nothing
           {{"--windows", "-1"}, "--windows"},
           {{"--language", "../x"}, "--language: language '../x': a name of letters"}}) {
    CAPTURE(message);
    args.insert(args.begin(), {"fortunes-lm", out, "--root", root});
    r = run_tool("nos-data", args);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, message));
  }
}

TEST_CASE("nos-train refuses token sequences for mlp and convnet, and numbers for textrnn and textcnn") {
  std::string root = temp_dir("token_models");
  // 60 sequences of 5 tokens, ids 0 .. 9, two classes.
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> labels;
  for (int row = 0; row < 60; ++row) {
    for (int t = 0; t < 5; ++t) ids.push_back((row * 7 + t * 3) % 10);
    labels.push_back(row % 2);
  }
  std::string tokens = root + "/tokens.npz";
  write_zip(tokens, {{"x.npy", npy_bytes("<i4", {60, 5}, raw_bytes(ids))},
                     {"y.npy", npy_bytes("<i8", {60}, raw_bytes(labels))}});
  for (const char* model : {"mlp", "convnet"}) {
    CAPTURE(model);
    ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", model, "--data", tokens, "--threads", "1", "--lr", "0.01"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, std::string("model ") + model + " needs numeric features or images; this data is token sequences (5 tokens of a vocabulary of 10): use textrnn or textcnn"));
  }
  std::string table = write_blobs_npz(root + "/table.npz", 60, 4, 3);
  for (const char* model : {"textrnn", "textcnn"}) {
    CAPTURE(model);
    ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", model, "--data", table, "--threads", "1", "--lr", "0.01"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, std::string("model ") + model + " needs token sequences (an .npz whose x holds integer "
                          "token ids, shape (N, length)); this data is a table of numbers of shape (4)"));
  }
  // Both train on token ids (ids are indices: a float id off by a rounding would fail in the embedding).
  for (const char* model : {"textrnn", "textcnn"}) {
    CAPTURE(model);
    ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", model, "--data", tokens, "--threads", "1", "--lr", "0.01",
                                          "--epochs", "1", "--batch-size", "16"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "model " + std::string(model)));
  }
}

// textcnn, the fast one (textrnn's LSTM takes about ten times as long per epoch: docs/benchmarks.md).
TEST_CASE("textcnn learns language identification of Debian's fortunes") {
  const std::string root = "/usr/share/games/fortunes";
  for (const char* language : {"", "/de", "/es", "/it"})
    if (!fs::is_directory(root + language)) {
      std::cout << "[SKIP] " << root << language << " is not installed (cmake/setup-debian.sh installs fortunes-*)\n";
      return;
    }
  std::string dir = temp_dir("fortunes_real");
  ToolResult made = run_tool("nos-data", {"fortunes", dir + "/f.npz", "--languages", "en,de,es,it", "--length", "64",
                                          "--per-language", "400"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", "textcnn", "--data", dir + "/f.npz",
                                        "--epochs", "3", "--lr", "0.003", "--batch-size", "32", "--threads", "1",
                                        "--json", dir + "/r.json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(dir + "/r.json");
  nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["status"] == "ok");
  CHECK(j["val_acc"].get<double>() > 0.5);  // chance is 0.25
}

// The lm on real text: a short textrnn run on 32-byte windows of the English fortunes.
TEST_CASE("textrnn learns next bytes of Debian's English fortunes (nos-data fortunes-lm, objective lm)") {
  const std::string root = "/usr/share/games/fortunes";
  if (!fs::is_directory(root)) {
    std::cout << "[SKIP] " << root << " is not installed (cmake/setup-debian.sh installs fortunes-*)\n";
    return;
  }
  std::string dir = temp_dir("fortunes_lm_real");
  ToolResult made = run_tool("nos-data", {"fortunes-lm", dir + "/lm.npz", "--length", "32", "--windows", "600"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(contains(made.out, "600 windows of 32 bytes of en"));
  nos::runtime::Dataset d = nos::runtime::load_dataset(dir + "/lm.npz");
  CHECK(d.size() == 600);
  CHECK_FALSE(d.has_labels());
  ToolResult r = run_tool("nos-train", {"--optimizer", "adam", "--model", "textrnn", "--data", dir + "/lm.npz",
                                        "--epochs", "2", "--lr", "0.01", "--batch-size", "32", "--threads", "1",
                                        "--json", dir + "/r.json"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "metric: neg_bits_per_token (higher is better)"));
  std::ifstream in(dir + "/r.json");
  nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["status"] == "ok");
  CHECK(j["objective"] == "lm");
  const nlohmann::json& history = j["history"];
  REQUIRE(history.size() == 2);
  CHECK(history[1]["val_loss"].get<double>() < history[0]["val_loss"].get<double>());
  // Uniform over the bytes seen is log2(vocabulary) (about 7 bits); English text is far below it.
  CHECK(j["val_acc"].get<double>() < 0);
  CHECK(j["val_acc"].get<double>() > -std::log2(static_cast<double>(d.vocabulary)));
}
