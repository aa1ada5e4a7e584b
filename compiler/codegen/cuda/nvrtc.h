// NVRTC, in process: CUDA C++ source -> PTX or CUBIN for one GPU architecture. Needs the CUDA
// toolkit's libnvrtc but no GPU and no driver.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nos::codegen::cuda {

enum class ImageKind { Ptx, Cubin };

struct CompiledImage {
  ImageKind kind = ImageKind::Cubin;
  std::string arch;   // what it was compiled for: "sm_90" (CUBIN) or "compute_90" (PTX)
  std::string image;  // CUBIN bytes, or PTX text with its terminating NUL (as cuModuleLoadData wants)
  std::string log;    // NVRTC's warnings, usually empty
};

// A failed compilation; what() holds NVRTC's log and the numbered source.
class NvrtcError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string nvrtc_version();                // "13.0": part of every kernel cache key
std::vector<int> nvrtc_supported_archs();   // ascending, e.g. 75 80 86 ... 120
int arch_number(std::string_view arch);     // "sm_90" -> 90, "sm_90a" -> 90, "compute_80" -> 80; throws
// Why compile() would refuse `arch` (not an architecture, older than this NVRTC knows, or one it
// does not list, such as sm_95; the message lists those it does), or an empty string when it can
// compile for it: what tools check their --arch option with (a usage error, exit 2).
std::string arch_problem(std::string_view arch);
std::string numbered_lines(std::string_view source);  // "   1 | ..." per line, for error messages

// Compiles `source` for `arch` ("sm_80", "sm_90", "sm_90a", ...). With ImageKind::Cubin, an arch
// newer than this NVRTC knows yields PTX for the newest arch it knows instead (the driver JIT-compiles
// PTX for newer GPUs); an arch arch_problem() refuses throws. Options: -std=c++17, --fmad=false so that
// no a*b+c is contracted into an fma and + - * / round exactly like the interpreter (whose host build
// uses -ffp-contract=off), and NVRTC's IEEE defaults kept (-prec-div, -prec-sqrt, no -ftz).
// Throws NvrtcError on failure.
CompiledImage compile(std::string_view source, std::string_view arch, ImageKind want = ImageKind::Cubin,
                      std::string_view program_name = "nos_kernel.cu");

}  // namespace nos::codegen::cuda
