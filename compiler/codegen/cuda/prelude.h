// The source files every generated CUDA program starts with, embedded verbatim at build time
// (embed_prelude.cmake) so the kernels and the reference interpreter share one definition of the
// language's float32 semantics and random numbers.
#pragma once

#include <string_view>

namespace nos::codegen::cuda {

std::string_view semantics_source();  // dsl/semantics.h
std::string_view random_source();     // dsl/random.h

}  // namespace nos::codegen::cuda
