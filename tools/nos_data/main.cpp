// nos-data: builds a data set for NOS from text installed on this machine, nothing downloaded.
//
//   nos-data fortunes OUT.npz [--root /usr/share/games/fortunes] [--languages en,de,es,it,pl,cs]
//                             [--length 64] [--per-language N]
//
// writes language identification of fortunes (fortunes.h): x int16 (N, length) byte values as
// token ids, y int64 language index, languages a string array of the class names (np.load gives
// all three; nos-train reads x and y as token sequences: docs/tasks.md). Exit status: 0 written,
// 1 bad input (a missing directory, a language without text, an unwritable OUT), 2 a command-line
// mistake, 3 internal errors.
//
//   nos-data fortunes-lm OUT.npz [--root /usr/share/games/fortunes] [--language en] [--length 64]
//                                [--windows N]
//
// writes next-token language modelling data from one language's fortunes: x int16 (N, length),
// the same windows as above (fortunes.h), and no y: the objective lm predicts each next byte.
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "support/atomic_file.h"
#include "tools/nos_data/fortunes.h"
#include "tools/nos_data/npz_writer.h"
#include "tools/tool_main.h"

namespace {

using namespace nos::data;

struct FortuneOptions {
  std::string out;
  std::string root = "/usr/share/games/fortunes";
  std::vector<std::string> languages{"en", "de", "es", "it", "pl", "cs"};
  WindowOptions windows;
};

int fortunes(const FortuneOptions& o) {
  std::vector<Language> languages;
  std::set<std::string> seen;
  for (const std::string& spec : o.languages) {
    Language language;
    try {
      language = parse_language(spec, o.root);
    } catch (const std::invalid_argument& e) {
      throw nos::tool::UsageError(fmt::format("--languages: {}", e.what()));
    }
    if (!seen.insert(language.name).second)
      throw nos::tool::UsageError(fmt::format("--languages: '{}' is given twice", language.name));
    languages.push_back(language);
  }
  if (languages.size() < 2)
    throw nos::tool::UsageError("--languages: give at least 2 languages (one class leaves nothing to identify)");
  nos::support::check_writable(o.out, "OUT");
  TextData data = fortune_windows(languages, o.windows);
  std::string npz = npz_bytes({{"x", npy_int16(data.x, {data.windows, data.length})},
                               {"y", npy_int64(data.y, {data.windows})},
                               {"languages", npy_strings(data.languages)}});
  nos::support::write_file_atomically(o.out, npz, "OUT");
  fmt::print("{}: {} windows of {} bytes, {} per language (vocabulary {}: byte values as token ids)\n", o.out,
             data.windows, data.length, data.windows / static_cast<std::int64_t>(languages.size()), data.vocabulary);
  for (std::size_t c = 0; c < languages.size(); ++c)
    fmt::print("  class {}  {:<6} {:>7} windows available in {} file(s) of {}\n", c, data.languages[c],
               data.available[c], data.files[c], languages[c].directory);
  return nos::tool::kOk;
}

struct LmOptions {
  std::string out;
  std::string root = "/usr/share/games/fortunes";
  std::string language = "en";
  WindowOptions windows;
};

int fortunes_lm(const LmOptions& o) {
  Language language;
  try {
    language = parse_language(o.language, o.root);
  } catch (const std::invalid_argument& e) {
    throw nos::tool::UsageError(fmt::format("--language: {}", e.what()));
  }
  nos::support::check_writable(o.out, "OUT");
  TextData data = fortune_windows({language}, o.windows);
  std::string npz = npz_bytes({{"x", npy_int16(data.x, {data.windows, data.length})}});
  nos::support::write_file_atomically(o.out, npz, "OUT");
  fmt::print("{}: {} windows of {} bytes of {} ({} available in {} file(s) of {}); vocabulary {}: byte values as "
             "token ids, each window {} next-byte predictions (objective lm)\n",
             o.out, data.windows, data.length, language.name, data.available[0], data.files[0], language.directory,
             data.vocabulary, data.length - 1);
  return nos::tool::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nos-data: data sets for NOS built from what is installed on this machine"};
  app.name("nos-data");
  app.require_subcommand(1);
  FortuneOptions f;
  CLI::App* cmd = app.add_subcommand(
      "fortunes", "language identification of fortunes (Debian's fortunes, fortunes-de, ... packages) as an .npz");
  cmd->add_option("OUT", f.out, "the .npz to write (x: token ids, y: language index, languages: names)")->required();
  cmd->add_option("--root", f.root, "where the fortune directories are")->capture_default_str();
  cmd->add_option("--languages", f.languages,
                  "the classes, comma-separated: NAME (the directory ROOT/NAME; en is ROOT itself) or NAME=DIR")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--length", f.windows.length, "bytes per window (tokens per example)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}))
      ->capture_default_str();
  cmd->add_option("--per-language", f.windows.per_language,
                  "at most this many windows per language (0: as many as the smallest language has)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30))
      ->capture_default_str();
  LmOptions lm;
  CLI::App* lm_cmd = app.add_subcommand(
      "fortunes-lm", "next-token language modelling data from one language's fortunes as an .npz (x only)");
  lm_cmd->add_option("OUT", lm.out, "the .npz to write (x: token ids, one window per row)")->required();
  lm_cmd->add_option("--root", lm.root, "where the fortune directories are")->capture_default_str();
  lm_cmd->add_option("--language", lm.language, "the language: NAME (ROOT/NAME; en is ROOT itself) or NAME=DIR")
      ->capture_default_str();
  lm_cmd->add_option("--length", lm.windows.length, "bytes per window: the model reads all but the last and predicts "
                                                    "each next one")
      ->check(CLI::Range(std::int64_t{2}, std::int64_t{4096}))
      ->capture_default_str();
  lm_cmd->add_option("--windows", lm.windows.per_language, "at most this many windows (0: all the text holds)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30))
      ->capture_default_str();
  return nos::tool::run_main(app, argc, argv, [&] { return lm_cmd->parsed() ? fortunes_lm(lm) : fortunes(f); });
}
