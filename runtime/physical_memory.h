// The machine's physical memory, the bound of what one input may make a process hold: a data file
// whose header declares more, or a model larger than it, is refused before anything is allocated.
#pragma once

#include <cstdint>

namespace nos::runtime {

// sysconf's physical pages times the page size; a large constant where the system does not say.
std::uint64_t physical_memory_bytes();

}  // namespace nos::runtime
