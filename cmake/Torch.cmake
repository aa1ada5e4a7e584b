# Finds LibTorch: Debian's libtorch-dev, or the LibTorch inside a PyPI torch wheel, with the three
# fixes a wheel needs (see docs/gpu.md). Sets what find_package(Torch) sets (TORCH_LIBRARIES, the
# `torch` target, TORCH_INSTALL_PREFIX) and NOS_TORCH_WHEEL (ON for a wheel).
#
# Where neither Torch_DIR nor CMAKE_PREFIX_PATH is given, NOS_TORCH_PYTHON's torch package (when it
# has one) is used, so on a machine whose python3 has torch the plain configure command finds it.

set(NOS_TORCH_PYTHON "python3" CACHE STRING
    "Python whose torch wheel provides LibTorch when neither Torch_DIR nor CMAKE_PREFIX_PATH is set (empty: never)")

if(NOT DEFINED Torch_DIR AND NOT CMAKE_PREFIX_PATH AND NOT DEFINED ENV{CMAKE_PREFIX_PATH} AND NOS_TORCH_PYTHON)
  find_program(_nos_python NAMES ${NOS_TORCH_PYTHON} NO_CACHE)
  if(_nos_python)
    # find_spec locates the package without importing it (importing torch takes seconds).
    execute_process(
      COMMAND ${_nos_python} -c
              "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')"
      OUTPUT_VARIABLE _nos_torch_package OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_nos_torch_package AND EXISTS "${_nos_torch_package}/share/cmake/Torch/TorchConfig.cmake")
      set(Torch_DIR "${_nos_torch_package}/share/cmake/Torch" CACHE PATH "LibTorch's TorchConfig.cmake directory")
      message(STATUS "LibTorch: the torch wheel of ${_nos_python} (${_nos_torch_package})")
    endif()
  endif()
endif()

# (a) Caffe2's CUDA setup detects the local GPUs with a try_run of a CUDA program unless
# TORCH_CUDA_ARCH_LIST is set, and that try_run fails under CMake 3.25 (and without a GPU). NOS
# compiles no CUDA sources with Torch's flags (its kernels go through NVRTC with --arch at run
# time), so the list only has to be valid; sm_90 is the GPU machine's H200.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()

find_package(Torch REQUIRED)

# A wheel's LibTorch sits in site-packages/torch, beside the nvidia/*/ packages of its CUDA libraries.
get_filename_component(_nos_site_packages "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
if(EXISTS "${TORCH_INSTALL_PREFIX}/lib/libtorch.so" AND EXISTS "${TORCH_INSTALL_PREFIX}/__init__.py")
  set(NOS_TORCH_WHEEL ON)
else()
  set(NOS_TORCH_WHEEL OFF)
endif()

if(NOS_TORCH_WHEEL)
  # (c) TorchConfig looks up c10 and friends with find_library(... PATHS prefix/lib), where PATHS
  # come after the system folders: with Debian's libtorch-dev also installed it picks Debian's
  # libc10.so, and the binaries then load two LibTorch versions and abort at start-up. Every
  # library TorchConfig looked up by name must be the wheel's own.
  foreach(pair c10_LIBRARY:c10 TORCH_LIBRARY:torch C10_CUDA_LIBRARY:c10_cuda kineto_LIBRARY:kineto)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 var)
    list(GET pair 1 lib)
    set(own "${TORCH_INSTALL_PREFIX}/lib/lib${lib}.so")
    if(DEFINED ${var} AND ${var} AND NOT "${${var}}" STREQUAL "${own}" AND EXISTS "${own}")
      message(STATUS "LibTorch: ${var} is the wheel's ${own}, not ${${var}}")
      set(_nos_libs "")
      foreach(l IN LISTS TORCH_LIBRARIES)
        if(l STREQUAL "${${var}}")
          set(l "${own}")
        endif()
        list(APPEND _nos_libs "${l}")
      endforeach()
      set(TORCH_LIBRARIES ${_nos_libs})
      set(${var} "${own}" CACHE FILEPATH "Path to a library." FORCE)
    endif()
  endforeach()

  # (b) The wheel's libtorch_cuda.so needs libnccl.so.2, libcudnn.so.9 ... from the nvidia/*/lib
  # folders (its RUNPATH finds them at run time), but the linker looks for them elsewhere and may
  # take the CUDA toolkit's libnccl.so.2 (undefined ncclCommGrow etc.). Name the wheel's folders.
  file(GLOB _nos_nvidia_libs LIST_DIRECTORIES true "${_nos_site_packages}/nvidia/*/lib")
  if(_nos_nvidia_libs)
    list(JOIN _nos_nvidia_libs ":" _nos_rpath_link)
    set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_OPTIONS "LINKER:-rpath-link,${_nos_rpath_link}")
  endif()
  message(STATUS "LibTorch ${Torch_VERSION}: torch wheel at ${TORCH_INSTALL_PREFIX}")
else()
  message(STATUS "LibTorch ${Torch_VERSION}: ${TORCH_INSTALL_PREFIX}")
endif()
