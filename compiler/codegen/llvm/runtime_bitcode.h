// The kernel runtime (kernel_runtime.cpp: dsl/semantics.h and dsl/random.h compiled by clang++-16)
// as LLVM bitcode, embedded in the library at build time by embed_bitcode.cmake.
#pragma once

#include <string_view>

namespace nos::codegen::cpu {

std::string_view runtime_bitcode();

}  // namespace nos::codegen::cpu
