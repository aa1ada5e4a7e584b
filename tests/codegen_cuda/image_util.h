// Inspecting compiled images in tests.
#pragma once

#include <string>

namespace nos::test {

// Whether a CUBIN's string tables name `kernel` exactly (as a symbol or a .text.<kernel> section).
inline bool cubin_names_kernel(const std::string& image, const std::string& kernel) {
  for (char before : {'\0', '.'})
    if (image.find(std::string(1, before) + kernel + std::string(1, '\0')) != std::string::npos) return true;
  return false;
}

inline bool is_elf(const std::string& image) { return image.size() > 4 && image.compare(0, 4, "\x7f" "ELF") == 0; }

}  // namespace nos::test
