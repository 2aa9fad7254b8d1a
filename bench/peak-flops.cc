// The machine's float32 FMA peak: every thread runs 12 independent chains of 16-lane fused
// multiply-adds (register-only, no memory traffic). Prints GFLOP/s (best of 5) as JSON.
// Built and run by bench/run.js: g++ -O2 -march=native -fopenmp bench/peak-flops.cc
#include <omp.h>
#include <cstdio>

typedef float f32x16 __attribute__((vector_size(64)));

int main() {
  const long iterations = 20000000;
  double best = 0;
  float sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
    {
      f32x16 acc[12];
      const f32x16 scale = f32x16{} + 0.9999999f, shift = f32x16{} + 1e-8f;
      for (int i = 0; i < 12; i++) acc[i] = f32x16{} + (1.0f + i * 1e-7f);
      for (long k = 0; k < iterations; k++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = acc[i] * scale + shift;  // contracted to one FMA
      }
      for (int i = 0; i < 12; i++) for (int l = 0; l < 16; l++) sink += acc[i][l];
    }
    const double seconds = omp_get_wtime() - t0;
    const double gflops = omp_get_max_threads() * iterations * 12.0 * 16 * 2 / seconds / 1e9;
    if (gflops > best) best = gflops;
  }
  std::printf("{\"threads\": %d, \"gflopPerSecond\": %.1f, \"checksum\": %g}\n", omp_get_max_threads(), best, sink);
  return 0;
}
