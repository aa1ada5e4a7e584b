// Language identification data from fortune files (Debian's fortunes, fortunes-de, ... packages):
// each language's text cut into windows of a fixed number of UTF-8 bytes, the byte values as token
// ids, the same number of windows per language. Torch-free.
//
// A language's text is every regular file directly in its directory (symbolic links and *.dat
// indexes skipped: Debian links foo.u8 -> foo, and fortunes-it links its files into the English
// directory), in name order. Fortunes are separated by lines holding only '%'; every run of
// whitespace becomes one space, other control bytes are dropped (escape sequences, overstriking
// backspaces), and the fortunes of a language are joined by a space into one stream that is cut
// into windows of `length` bytes (the last, shorter piece dropped). A window may end inside a
// character or span two fortunes: the classifier sees bytes, as a byte-level reader would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nos::data {

struct Language {
  std::string name;       // "en", "de", ...: the class's name
  std::string directory;  // where its fortune files are
};

// NAME or NAME=DIR; NAME alone is ROOT/NAME, except "en", which is ROOT itself (Debian's English
// fortunes lie at the top of /usr/share/games/fortunes). std::invalid_argument for an empty name or
// one that is not a plain word.
Language parse_language(const std::string& spec, const std::string& root);

struct WindowOptions {
  std::int64_t length = 64;        // bytes per window
  std::int64_t per_language = 0;   // > 0: at most this many windows per language
};

struct TextData {
  std::vector<std::string> languages;  // class index -> name
  std::vector<std::int16_t> x;         // windows x length byte values 1 .. 255
  std::vector<std::int64_t> y;         // class per window
  std::int64_t windows = 0, length = 0;
  std::vector<std::int64_t> available;  // per language: the windows its text holds
  std::vector<std::int64_t> files;      // per language: the files read
  std::int64_t vocabulary = 0;          // the largest byte value + 1
};

// The normalized text of one fortune file's contents (rules above).
std::string normalize_fortunes(const std::string& contents);

// Reads every language and takes the same number of windows from each: the smallest language's
// count (or per_language if smaller), spread evenly over its text. Throws std::invalid_argument
// naming the directory when one is missing or unreadable, or a language's text holds no window.
TextData fortune_windows(const std::vector<Language>& languages, const WindowOptions& options);

}  // namespace nos::data
