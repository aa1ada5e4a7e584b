// CPU threads of a training process: LibTorch's intra-op pool and the BLAS library's own pool.
#pragma once

namespace nos::runtime {

// Sets LibTorch's intra-op threads to `threads` and, when the process's BLAS is OpenBLAS, its
// thread count too. at::set_num_threads does not reach OpenBLAS's pthread build (Debian's default
// libblas.so.3): it keeps one thread per core, and those spin in sched_yield between calls. Two
// 1-thread workers on 2 cores then ran 4 busy threads, and each child trained ~1.5 times slower.
void set_cpu_threads(int threads);

// The BLAS library's thread count when it can be read (OpenBLAS), else 0.
int blas_threads();

}  // namespace nos::runtime
