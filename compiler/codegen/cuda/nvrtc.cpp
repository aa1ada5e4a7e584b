// NVRTC is linked, not dlopen'ed: it ships with the toolkit this library is built against (its
// version must match the headers), it needs no GPU or driver, and NOS_WITH_CUDA=ON already requires
// the toolkit. Only the driver (cuda_driver.cpp) must be optional at run time.
#include "compiler/codegen/cuda/nvrtc.h"

#include <nvrtc.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace nos::codegen::cuda {
namespace {

void check(nvrtcResult result, const char* what) {
  if (result != NVRTC_SUCCESS)
    throw NvrtcError(std::string("NVRTC: ") + what + " failed: " + nvrtcGetErrorString(result));
}

struct ProgramDeleter {
  void operator()(nvrtcProgram program) const { nvrtcDestroyProgram(&program); }
};
using Program = std::unique_ptr<std::remove_pointer_t<nvrtcProgram>, ProgramDeleter>;

std::string program_log(nvrtcProgram program) {
  std::size_t size = 0;
  if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size == 0) return "";
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS) return "";
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  return log;
}

}  // namespace

std::string nvrtc_version() {
  int major = 0, minor = 0;
  check(nvrtcVersion(&major, &minor), "nvrtcVersion");
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> nvrtc_supported_archs() {
  int count = 0;
  check(nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
  std::vector<int> archs(count);
  check(nvrtcGetSupportedArchs(archs.data()), "nvrtcGetSupportedArchs");
  std::sort(archs.begin(), archs.end());
  return archs;
}

int arch_number(std::string_view arch) {
  std::string_view digits = arch;
  bool ok = false;
  for (std::string_view prefix : {"sm_", "compute_"})
    if (digits.starts_with(prefix)) digits.remove_prefix(prefix.size()), ok = true;
  if (!digits.empty() && (digits.back() == 'a' || digits.back() == 'f')) digits.remove_suffix(1);  // sm_90a, sm_100f
  ok = ok && digits.size() >= 2 && digits.size() <= 4 &&
       std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!ok) throw NvrtcError("not a GPU architecture: '" + std::string(arch) + "' (expected e.g. sm_90)");
  return std::stoi(std::string(digits));
}

namespace {

// Why NVRTC cannot build `requested` (an arch number): older than the oldest it knows, or one it
// does not know between the oldest and the newest (sm_95: NVRTC_ERROR_INVALID_OPTION). Newer than
// the newest is fine: compile() writes PTX for the newest, which the driver JIT-compiles.
std::string unsupported(std::string_view arch, int requested, const std::vector<int>& known) {
  if (known.empty()) return "NVRTC " + nvrtc_version() + " reports no GPU architectures";
  if (requested > known.back() || std::find(known.begin(), known.end(), requested) != known.end()) return {};
  std::string list;
  for (int k : known) list += (list.empty() ? "sm_" : ", sm_") + std::to_string(k);
  return "NVRTC " + nvrtc_version() + " cannot compile for " + std::string(arch) + "; it supports " + list +
         " (and newer GPUs, through PTX for sm_" + std::to_string(known.back()) + ")";
}

}  // namespace

std::string arch_problem(std::string_view arch) {
  int requested = 0;
  try {
    requested = arch_number(arch);
  } catch (const NvrtcError& e) {
    return e.what();
  }
  return unsupported(arch, requested, nvrtc_supported_archs());
}

std::string numbered_lines(std::string_view source) {
  std::string out;
  int line = 1;
  for (std::size_t begin = 0; begin <= source.size();) {
    std::size_t end = source.find('\n', begin);
    if (end == std::string_view::npos) end = source.size();
    out += fmt::format("{:5d} | ", line++);
    out.append(source.substr(begin, end - begin));
    out += '\n';
    if (end == source.size()) break;
    begin = end + 1;
  }
  return out;
}

CompiledImage compile(std::string_view source, std::string_view arch, ImageKind want, std::string_view program_name) {
  const int requested = arch_number(arch);
  const std::vector<int> known = nvrtc_supported_archs();
  if (std::string problem = unsupported(arch, requested, known); !problem.empty()) throw NvrtcError(problem);
  CompiledImage result;
  result.kind = want;
  if (requested > known.back()) {
    // A GPU newer than this NVRTC: PTX for the newest arch it knows, which the driver JIT-compiles.
    result.kind = ImageKind::Ptx;
    result.arch = "compute_" + std::to_string(known.back());
  } else {
    std::string suffix(arch.substr(arch.find_last_of("0123456789") + 1));  // keeps sm_90a's "a"
    result.arch = (want == ImageKind::Cubin ? "sm_" : "compute_") + std::to_string(requested) + suffix;
  }

  const std::string text(source), name(program_name);
  nvrtcProgram raw = nullptr;
  check(nvrtcCreateProgram(&raw, text.c_str(), name.c_str(), 0, nullptr, nullptr), "nvrtcCreateProgram");
  Program program(raw);
  const std::string arch_option = "-arch=" + result.arch;
  const char* options[] = {arch_option.c_str(), "-std=c++17", "--fmad=false"};
  nvrtcResult status = nvrtcCompileProgram(raw, static_cast<int>(std::size(options)), options);
  result.log = program_log(raw);
  if (status != NVRTC_SUCCESS)
    throw NvrtcError("NVRTC " + nvrtc_version() + " failed to compile " + name + " for " + result.arch + ": " +
                     nvrtcGetErrorString(status) + "\n---- NVRTC log ----\n" + result.log +
                     "\n---- source ----\n" + numbered_lines(text));

  std::size_t size = 0;
  if (result.kind == ImageKind::Cubin) {
    check(nvrtcGetCUBINSize(raw, &size), "nvrtcGetCUBINSize");
    result.image.resize(size);
    check(nvrtcGetCUBIN(raw, result.image.data()), "nvrtcGetCUBIN");
  } else {
    check(nvrtcGetPTXSize(raw, &size), "nvrtcGetPTXSize");
    result.image.resize(size);
    check(nvrtcGetPTX(raw, result.image.data()), "nvrtcGetPTX");
  }
  return result;
}

}  // namespace nos::codegen::cuda
