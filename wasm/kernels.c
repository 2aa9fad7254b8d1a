// ResNeXt.ts WebAssembly kernels (wasm32 + SIMD128, freestanding: no libc): a packed SIMD GEMM and
// the grouped convolution's forward, backward-data and backward-weight passes built on it
// (im2col/col2im per image and group, as src/backend/reference/conv.ts), matmul, batch norm, ReLU
// and a multiply-add throughput probe. Memory is an arena the JavaScript side resets per call.
// Built twice (scripts/build-wasm.js): plain, and with RX_THREADS over shared memory, where
// parallel_for() hands chunks of a kernel to workers the JavaScript side starts in worker_main().
// Every output element is computed by the same arithmetic in the same order whatever the thread
// count, so results do not depend on it.
#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;
extern unsigned char __heap_base;
static size_t arena_top;
/** Floats a kernel asked for and could not get (0: none), reported by arena_failed(). */
static double arena_missing;

#define EXPORT(name) __attribute__((export_name(#name)))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/** Where the arena starts: above the blocks JavaScript keeps resident (constants.ts), from __heap_base. */
static size_t arena_base;

EXPORT(arena_reset) void arena_reset(void) {
  arena_top = arena_base ? arena_base : (size_t)&__heap_base;
  arena_missing = 0;
}

/** The first byte the resident blocks may use. */
EXPORT(heap_start) size_t heap_start(void) { return (size_t)&__heap_base; }

/** Moves the arena's start (JavaScript keeps resident blocks below it; the memory already holds it). */
EXPORT(arena_set_base) void arena_set_base(size_t base) {
  arena_base = base;
  arena_reset();
}

/**
 * `count` floats, 64-byte aligned, growing the memory as needed; 0 when it cannot grow (4 GiB).
 * The count is a double: products of 32-bit sizes (an im2col buffer) must not wrap.
 */
EXPORT(arena_alloc) float* arena_alloc(double count) {
  if (arena_top == 0) arena_reset();
  size_t start = (arena_top + 63) & ~(size_t)63;
  double end = (double)start + count * 4;
  if (end > 4294901760.0) {
    arena_missing = count;
    return 0;
  }
  size_t pages = (size_t)((end + 65535) / 65536), have = __builtin_wasm_memory_size(0);
  if (pages > have && __builtin_wasm_memory_grow(0, pages - have) == (size_t)-1) {
    arena_missing = count;
    return 0;
  }
  arena_top = (size_t)end;
  return (float*)start;
}

/** The floats of the allocation that failed since arena_reset(), or 0. */
EXPORT(arena_failed) double arena_failed(void) { return arena_missing; }

/** The compiler's zeroing of structs calls memset (no libc here); volatile keeps it from calling itself. */
void* memset(void* dst, int value, size_t n) {
  volatile unsigned char* p = dst;
  while (n--) *p++ = (unsigned char)value;
  return dst;
}

static void zero(float* p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = 0;
}

// ---- threads: chunks of a kernel claimed by the caller and the workers --------------------------
/** A piece of a kernel: chunk `chunk` of the job whose context is `ctx`, run by thread `tid`. */
typedef void (*task_fn)(void* ctx, int chunk, int tid);
enum { MAX_THREADS = 16, WORKER_STACK = 128 * 1024, MAX_CHUNKS = 0xFFFFF, SPIN = 100000 };

#ifdef RX_THREADS
static int pool_size = 1;
/** The job's generation, which idle workers wait on; claims pack generation:24 | chunks:20 | next:20. */
static unsigned pool_gen;
static unsigned long long pool_claim;
static int pool_done;
static task_fn pool_fn;
static void* pool_ctx;
static char worker_stacks[MAX_THREADS][WORKER_STACK] __attribute__((aligned(16)));

/** How many threads kernels use (the caller and n − 1 workers). */
EXPORT(set_threads) void set_threads(int n) { __atomic_store_n(&pool_size, n < 1 ? 1 : MIN(n, MAX_THREADS), __ATOMIC_RELEASE); }

/** Set (to 1, by the worker's JavaScript, at worker_failed_flag()) when a worker traps. */
static int worker_failed;
EXPORT(worker_failed_flag) int* worker_failed_flag(void) { return &worker_failed; }

/** Where worker `tid` (1 … MAX_THREADS − 1) sets its __stack_pointer before worker_main(tid). */
EXPORT(worker_stack_top) char* worker_stack_top(int tid) { return worker_stacks[tid] + WORKER_STACK; }

/** Claims the next chunk of generation `gen`: 0 when that job has none left (or is over). */
static int claim(unsigned gen, int* chunk) {
  unsigned long long v = __atomic_load_n(&pool_claim, __ATOMIC_ACQUIRE);
  for (;;) {
    unsigned chunks = (v >> 20) & MAX_CHUNKS, next = v & MAX_CHUNKS;
    if ((v >> 40) != gen || next >= chunks) return 0;
    if (__atomic_compare_exchange_n(&pool_claim, &v, v + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      *chunk = (int)next;
      return 1;
    }
  }
}

/** Runs claimed chunks; the job's fields are stable while a claimed chunk is unfinished. */
static int worker_chunks;

static void run_chunks(unsigned gen, int tid) {
  int chunk, ran = 0;
  while (claim(gen, &chunk)) {
    pool_fn(pool_ctx, chunk, tid);
    ran++;
    __atomic_fetch_add(&pool_done, 1, __ATOMIC_RELEASE);
  }
  if (tid > 0 && ran) __atomic_fetch_add(&worker_chunks, ran, __ATOMIC_RELAXED);
}

/** Chunks run by workers so far (the tests check that threads share the work). */
EXPORT(worker_chunks_run) int worker_chunks_run(void) { return __atomic_load_n(&worker_chunks, __ATOMIC_RELAXED); }

/** A worker's life: sleep until a new job, help with it if within the thread count, repeat. */
EXPORT(worker_main) void worker_main(int tid) {
  unsigned seen = 0;
  for (;;) {
    unsigned gen;
    // kernels come in quick succession: poll a while (~0.1 ms) before sleeping, as waking costs more
    for (int spin = 0; spin < SPIN && (gen = __atomic_load_n(&pool_gen, __ATOMIC_ACQUIRE)) == seen; spin++) {
    }
    while ((gen = __atomic_load_n(&pool_gen, __ATOMIC_ACQUIRE)) == seen)
      __builtin_wasm_memory_atomic_wait32((int*)&pool_gen, (int)seen, -1);
    seen = gen;
    if (tid < __atomic_load_n(&pool_size, __ATOMIC_ACQUIRE)) run_chunks(gen, tid);
  }
}

static int threads(void) { return __atomic_load_n(&pool_size, __ATOMIC_ACQUIRE); }

/** fn(ctx, 0 … chunks − 1, tid) over the caller and the workers; returns when every chunk is done. */
static void parallel_for(task_fn fn, void* ctx, int chunks) {
  if (threads() <= 1 || chunks <= 1 || chunks > MAX_CHUNKS) {
    for (int c = 0; c < chunks; c++) fn(ctx, c, 0);
    return;
  }
  pool_fn = fn;
  pool_ctx = ctx;
  __atomic_store_n(&pool_done, 0, __ATOMIC_RELAXED);
  unsigned gen = (pool_gen + 1) & 0xFFFFFF;
  if (gen == 0) gen = 1;
  __atomic_store_n(&pool_claim, ((unsigned long long)gen << 40) | ((unsigned long long)chunks << 20), __ATOMIC_RELEASE);
  __atomic_store_n(&pool_gen, gen, __ATOMIC_RELEASE);
  __builtin_wasm_memory_atomic_notify((int*)&pool_gen, ~0u);
  run_chunks(gen, 0);
  // what is left is in flight on workers: a short spin (the caller may be a page's main thread, which
  // cannot wait); a worker that trapped (a bug) is reported by its JavaScript: trap here too, never hang
  while (__atomic_load_n(&pool_done, __ATOMIC_ACQUIRE) < chunks)
    if (__atomic_load_n(&worker_failed, __ATOMIC_ACQUIRE)) __builtin_trap();
}
#else
static int threads(void) { return 1; }
static void parallel_for(task_fn fn, void* ctx, int chunks) {
  for (int c = 0; c < chunks; c++) fn(ctx, c, 0);
}
#endif

/** Splits `units` into at most `parts` contiguous ranges: chunk c is [c·step, min((c+1)·step, units)). */
static int split(int units, int parts, int* step) {
  if (parts > units) parts = units;
  if (parts < 1) parts = 1;
  *step = (units + parts - 1) / parts;
  return (units + *step - 1) / *step;
}

/** Per-thread work buffers: `per` floats for each thread, or 0 (arena_failed() says why). */
static float* thread_scratch(double per) { return per > 0 ? arena_alloc(per * threads()) : 0; }

// ---- GEMM: C[m,n] (+)= A·B with A(i,p) = a[i*rsa + p*csa], B(p,j) = b[p*rsb + j*csb] ----------
enum { MR = 4, NR = 8, KC = 256 };

/** Packs rows [i0, i0+MR) × depth [p0, p0+kc) of A, zero-padded: packed[p*MR + r]. */
static void pack_a(const float* a, int rsa, int csa, int m, int i0, int p0, int kc, float* out) {
  for (int p = 0; p < kc; p++)
    for (int r = 0; r < MR; r++) out[p * MR + r] = i0 + r < m ? a[(i0 + r) * rsa + (p0 + p) * csa] : 0;
}

/** Packs depth [p0, p0+kc) × columns [j0, j0+NR) of B, zero-padded: packed[p*NR + c]. */
static void pack_b(const float* b, int rsb, int csb, int n, int j0, int p0, int kc, float* out) {
  for (int p = 0; p < kc; p++) {
    const float* row = b + (p0 + p) * rsb;
    if (csb == 1 && j0 + NR <= n) {
      wasm_v128_store(out + p * NR, wasm_v128_load(row + j0));
      wasm_v128_store(out + p * NR + 4, wasm_v128_load(row + j0 + 4));
    } else {
      for (int c = 0; c < NR; c++) out[p * NR + c] = j0 + c < n ? row[(j0 + c) * csb] : 0;
    }
  }
}

/** acc[MR][NR] = Σ_p ap[p]·bp[p], added to (or stored over) the valid part of C. */
static void micro(int kc, const float* ap, const float* bp, float* c, int ldc, int rows, int cols, int add) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(bp + p * NR), b1 = wasm_v128_load(bp + p * NR + 4);
    v128_t a0 = wasm_f32x4_splat(ap[p * MR]), a1 = wasm_f32x4_splat(ap[p * MR + 1]);
    v128_t a2 = wasm_f32x4_splat(ap[p * MR + 2]), a3 = wasm_f32x4_splat(ap[p * MR + 3]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  float acc[MR * NR] __attribute__((aligned(16)));
  wasm_v128_store(acc + 0, c00), wasm_v128_store(acc + 4, c01), wasm_v128_store(acc + 8, c10);
  wasm_v128_store(acc + 12, c11), wasm_v128_store(acc + 16, c20), wasm_v128_store(acc + 20, c21);
  wasm_v128_store(acc + 24, c30), wasm_v128_store(acc + 28, c31);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = add ? c[r * ldc + j] + acc[r * NR + j] : acc[r * NR + j];
}

typedef struct {
  int m, n, k;
  const float* a;
  int rsa, csa;
  const float* b;
  int rsb, csb;
  float* c;
  int ldc, accumulate;
} gemm_args;

/** Floats of packing space one thread needs for a GEMM of m rows. */
static double gemm_scratch(int m) { return ((double)((m + MR - 1) / MR) * MR + NR) * KC; }

/** Rows [i0, i1) × columns [j0, j1) of C (i0 a multiple of MR, j0 of NR), packing into `scratch`. */
static void gemm_tile(const gemm_args* s, int i0, int i1, int j0, int j1, float* scratch) {
  if (s->k == 0) {
    if (!s->accumulate)
      for (int i = i0; i < i1; i++) zero(s->c + (size_t)i * s->ldc + j0, j1 - j0);
    return;
  }
  float *bp = scratch, *ap = scratch + NR * KC;
  int blocks = (i1 - i0 + MR - 1) / MR;
  for (int p0 = 0; p0 < s->k; p0 += KC) {
    int kc = MIN(s->k - p0, KC);
    for (int ib = 0; ib < blocks; ib++) pack_a(s->a, s->rsa, s->csa, s->m, i0 + ib * MR, p0, kc, ap + (size_t)ib * MR * kc);
    for (int j = j0; j < j1; j += NR) {
      pack_b(s->b, s->rsb, s->csb, s->n, j, p0, kc, bp);
      int cols = MIN(j1 - j, NR);
      for (int ib = 0; ib < blocks; ib++) {
        int i = i0 + ib * MR, rows = MIN(i1 - i, MR);
        micro(kc, ap + (size_t)ib * MR * kc, bp, s->c + (size_t)i * s->ldc + j, s->ldc, rows, cols, s->accumulate || p0 > 0);
      }
    }
  }
}

typedef struct {
  const gemm_args* s;
  float* scratch;
  double per;
  int by_rows, step;
} gemm_job;

static void gemm_task(void* p, int chunk, int tid) {
  const gemm_job* j = p;
  float* scratch = j->scratch + (size_t)(tid * j->per);
  int lo = chunk * j->step;
  if (j->by_rows)
    gemm_tile(j->s, lo, MIN(lo + j->step, j->s->m), 0, j->s->n, scratch);
  else
    gemm_tile(j->s, 0, j->s->m, lo, MIN(lo + j->step, j->s->n), scratch);
}

/**
 * C (+)= A·B over all threads: C is cut into row blocks when it has more rows than columns, else
 * into column blocks (each thread packs the other operand whole: the smaller one).
 */
static void gemm_parallel(const gemm_args* s) {
  gemm_job j = {s, 0, gemm_scratch(s->m), s->m > s->n, 0};
  size_t mark = arena_top;
  if (!(j.scratch = thread_scratch(j.per))) return;
  // 4 chunks a thread, claimed as threads come free: a late worker's share is taken by the others
  int unit = j.by_rows ? MR : NR, units = ((j.by_rows ? s->m : s->n) + unit - 1) / unit;
  int chunks = split(units, threads() == 1 ? 1 : 4 * threads(), &j.step);
  j.step *= unit;
  parallel_for(gemm_task, &j, chunks);
  arena_top = mark;
}

// ---- grouped convolution (NCHW), geometry as 16 ints: n c h w o kh kw oh ow sh sw ph pw dh dw groups ----
typedef struct {
  int n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
} geometry;

static int pointwise(const geometry* g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/** Unfolds channels [c0, c1) of one image (x at its channel 0) into rows c·kh·kw… of col[·, oh·ow]. */
static void im2col(const float* x, int c0, int c1, const geometry* g, float* col) {
  int r = c0 * g->kh * g->kw;
  for (int c = c0; c < c1; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++, r++) {
        float* row = col + (size_t)r * g->oh * g->ow;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + ki * g->dh;
          float* dst = row + oy * g->ow;
          if (iy < 0 || iy >= g->h) {
            zero(dst, g->ow);
            continue;
          }
          const float* src = x + ((size_t)c * g->h + iy) * g->w;
          for (int ox = 0; ox < g->ow; ox++) {
            int ix = ox * g->sw - g->pw + kj * g->dw;
            dst[ox] = ix >= 0 && ix < g->w ? src[ix] : 0;
          }
        }
      }
}

/** Folds rows of channels [c0, c1) of col back onto one image (dx at its channel 0), accumulating overlaps. */
static void col2im(const float* col, int c0, int c1, const geometry* g, float* dx) {
  int r = c0 * g->kh * g->kw;
  for (int c = c0; c < c1; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++, r++) {
        const float* row = col + (size_t)r * g->oh * g->ow;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + ki * g->dh;
          if (iy < 0 || iy >= g->h) continue;
          float* dst = dx + ((size_t)c * g->h + iy) * g->w;
          for (int ox = 0; ox < g->ow; ox++) {
            int ix = ox * g->sw - g->pw + kj * g->dw;
            if (ix >= 0 && ix < g->w) dst[ix] += row[oy * g->ow + ox];
          }
        }
      }
}

// ---- direct forward convolution for few channels per group (ResNeXt's grouped 3x3) ---------------
// A GEMM of 4 rows by cg·kh·kw deep spends as long packing as multiplying. Instead, per image and
// group: the group's channels are copied into zero-padded planes, then each block of 4 output
// channels × 8 output pixels accumulates over channels and taps — 8 f32x4 sums, one load of 8 input
// pixels (stride 2: 16 loaded, every other kept) and 4 weight splats per tap. Each output is summed
// over channels, then taps, in the order the GEMM's depth runs (c, ki, kj).
enum { DIRECT_MAX_CG = 16 };

static int direct_applies(const geometry* g) {
  int cg = g->c / g->groups;
  return g->groups > 1 && cg <= DIRECT_MAX_CG && g->kh * g->kw > 1 && (g->sw == 1 || g->sw == 2);
}

typedef struct {
  int ow8, hp, wp; /* output width rounded up to 8; padded plane height and width */
  size_t plane, weights, out;
} direct_sizes;

static direct_sizes direct_layout(const geometry* g) {
  direct_sizes d;
  d.ow8 = (g->ow + 7) / 8 * 8;
  d.hp = g->h + 2 * g->ph;
  int reach = (d.ow8 - 1) * g->sw + (g->kw - 1) * g->dw + 1 + 8; /* the last 8-pixel load of stride 2 reads 16 */
  d.wp = g->w + 2 * g->pw > reach ? g->w + 2 * g->pw : reach;
  d.plane = (size_t)d.hp * d.wp;
  int cg = g->c / g->groups, og = g->o / g->groups;
  d.weights = (size_t)((og + 3) / 4) * cg * g->kh * g->kw * 4;
  d.out = (size_t)4 * d.ow8;
  return d;
}

/** Floats of work space one thread needs: the padded planes, the repacked weights, one output row of 4 channels. */
static double direct_scratch(const geometry* g) {
  direct_sizes d = direct_layout(g);
  return (double)(g->c / g->groups) * d.plane + d.weights + d.out;
}

/** 8 consecutive outputs' inputs at `p` for stride 1, or every other of 16 for stride 2, as two f32x4. */
static inline void load8(const float* p, int stride2, v128_t* lo, v128_t* hi) {
  if (!stride2) {
    *lo = wasm_v128_load(p);
    *hi = wasm_v128_load(p + 4);
  } else {
    v128_t a = wasm_v128_load(p), b = wasm_v128_load(p + 4), c = wasm_v128_load(p + 8), d = wasm_v128_load(p + 12);
    *lo = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
    *hi = wasm_i32x4_shuffle(c, d, 0, 2, 4, 6);
  }
}

/** y[n, group gi] = conv of that group directly; `scratch` holds direct_scratch(g) floats. */
static void direct_conv(const float* x, const float* w, float* y, const geometry* g, int n, int gi, float* scratch) {
  direct_sizes d = direct_layout(g);
  int cg = g->c / g->groups, og = g->o / g->groups, taps = g->kh * g->kw, hw = g->oh * g->ow;
  float *planes = scratch, *wp = planes + (size_t)cg * d.plane, *row = wp + d.weights;
  // the group's channels, zero-padded
  zero(planes, (size_t)cg * d.plane);
  for (int c = 0; c < cg; c++) {
    const float* src = x + ((size_t)n * g->c + (size_t)gi * cg + c) * g->h * g->w;
    for (int iy = 0; iy < g->h; iy++) {
      float* dst = planes + (size_t)c * d.plane + (size_t)(iy + g->ph) * d.wp + g->pw;
      for (int ix = 0; ix < g->w; ix++) dst[ix] = src[(size_t)iy * g->w + ix];
    }
  }
  // weights as [block of 4 outputs][c][tap][4], zero for outputs past og
  const float* wg = w + (size_t)gi * og * cg * taps;
  for (int ob = 0; ob < (og + 3) / 4; ob++)
    for (int c = 0; c < cg; c++)
      for (int t = 0; t < taps; t++)
        for (int r = 0; r < 4; r++) {
          int o = ob * 4 + r;
          wp[(((size_t)ob * cg + c) * taps + t) * 4 + r] = o < og ? wg[((size_t)o * cg + c) * taps + t] : 0;
        }
  int stride2 = g->sw == 2;
  for (int ob = 0; ob < (og + 3) / 4; ob++) {
    const float* wb = wp + (size_t)ob * cg * taps * 4;
    int rows = MIN(og - ob * 4, 4);
    for (int oy = 0; oy < g->oh; oy++) {
      for (int ox = 0; ox < d.ow8; ox += 8) {
        v128_t a0 = wasm_f32x4_splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, e0 = a0, e1 = a0;
        const float* wt = wb;
        for (int c = 0; c < cg; c++) {
          const float* plane = planes + (size_t)c * d.plane + (size_t)oy * g->sh * d.wp + (size_t)ox * g->sw;
          for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++, wt += 4) {
              v128_t lo, hi;
              load8(plane + (size_t)ki * g->dh * d.wp + (size_t)kj * g->dw, stride2, &lo, &hi);
              v128_t w0 = wasm_v128_load32_splat(wt), w1 = wasm_v128_load32_splat(wt + 1);
              v128_t w2 = wasm_v128_load32_splat(wt + 2), w3 = wasm_v128_load32_splat(wt + 3);
              a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(w0, lo)), a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(w0, hi));
              b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(w1, lo)), b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(w1, hi));
              c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(w2, lo)), c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(w2, hi));
              e0 = wasm_f32x4_add(e0, wasm_f32x4_mul(w3, lo)), e1 = wasm_f32x4_add(e1, wasm_f32x4_mul(w3, hi));
            }
        }
        float* out = row + ox;
        wasm_v128_store(out, a0), wasm_v128_store(out + 4, a1);
        wasm_v128_store(out + d.ow8, b0), wasm_v128_store(out + d.ow8 + 4, b1);
        wasm_v128_store(out + 2 * d.ow8, c0), wasm_v128_store(out + 2 * d.ow8 + 4, c1);
        wasm_v128_store(out + 3 * d.ow8, e0), wasm_v128_store(out + 3 * d.ow8 + 4, e1);
      }
      for (int r = 0; r < rows; r++) {
        float* dst = y + ((size_t)n * g->o + (size_t)gi * og + ob * 4 + r) * hw + (size_t)oy * g->ow;
        for (int ox = 0; ox < g->ow; ox++) dst[ox] = row[r * d.ow8 + ox];
      }
    }
  }
}

/** The three passes: y = conv(x, w); dx = convᵀ(dy, w); dw = Σ_n dy·colᵀ. */
enum { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHT };

typedef struct {
  int pass;
  const geometry* g;
  const float *x, *w, *dy;
  float *y, *dx, *dw;
  /* the forward pass's epilogue: y = relu?(y + bias + residual), each optional */
  const float *bias, *residual;
  int relu;
  int direct; /* forward by direct_conv, per image and group */
  int cg, og, kk, hw;
  float* scratch; /* per thread: col (kk·hw floats, none for a pointwise conv), then GEMM packing */
  double per, col_size;
  /* for the column passes: the image and group at hand, the col buffer and the channel step */
  int n, gi, step;
  float* col;
} conv_job;

static const float* conv_x(const conv_job* j, int n, int gi) {
  return j->x + ((size_t)n * j->g->c + (size_t)gi * j->cg) * j->g->h * j->g->w;
}

/** The GEMM of image n, group gi of a pass, into / out of `col` (the image itself when pointwise). */
static gemm_args conv_gemm(const conv_job* j, int n, int gi, float* col) {
  const geometry* g = j->g;
  const float* wg = j->w ? j->w + (size_t)gi * j->og * j->kk : 0;
  size_t yoff = ((size_t)n * g->o + (size_t)gi * j->og) * j->hw;
  if (j->pass == FORWARD)
    return (gemm_args){j->og, j->hw, j->kk, wg, j->kk, 1, col, j->hw, 1, j->y + yoff, j->hw, 0};
  if (j->pass == BACKWARD_DATA)
    return (gemm_args){j->kk, j->hw, j->og, wg, 1, j->kk, j->dy + yoff, j->hw, 1, col, j->hw, 0};
  return (gemm_args){j->og, j->kk, j->hw, j->dy + yoff, j->hw, 1, col, 1, j->hw, j->dw + (size_t)gi * j->og * j->kk,
                     j->kk, 1};
}

/** The forward epilogue on output channels [o0, o1) of image n: + bias, + residual, ReLU (NaN kept), as the reference orders them. */
static void epilogue(const conv_job* j, int n, int o0, int o1) {
  if (!j->bias && !j->residual && !j->relu) return;
  for (int o = o0; o < o1; o++) {
    size_t off = ((size_t)n * j->g->o + o) * j->hw;
    float *y = j->y + off, b = j->bias ? j->bias[o] : 0;
    const float* r = j->residual ? j->residual + off : 0;
    for (int i = 0; i < j->hw; i++) {
      float v = j->bias ? y[i] + b : y[i];
      if (r) v += r[i];
      y[i] = !j->relu || v > 0 || v != v ? v : 0;
    }
  }
}

static void epilogue_task(void* p, int chunk, int tid) {
  (void)tid;
  const conv_job* j = p;
  int o0 = j->gi * j->og + chunk * j->step;
  epilogue(j, j->n, o0, MIN(o0 + j->step, (j->gi + 1) * j->og));
}

/** One image and group of a pass, serially on thread tid (the backward-weight pass: one group, all images). */
static void conv_item(const conv_job* j, int n, int gi, int tid) {
  float* mine = j->scratch + (size_t)(tid * j->per);
  int flat = j->col_size == 0;
  float* col = flat ? 0 : mine;
  float* pack = mine + (size_t)j->col_size;
  size_t xoff = ((size_t)n * j->g->c + (size_t)gi * j->cg) * j->g->h * j->g->w;
  if (j->pass == FORWARD && j->direct) {
    direct_conv(j->x, j->w, j->y, j->g, n, gi, mine);
    epilogue(j, n, gi * j->og, (gi + 1) * j->og);
  } else if (j->pass == FORWARD || j->pass == BACKWARD_WEIGHT) {
    if (col) im2col(conv_x(j, n, gi), 0, j->cg, j->g, col);
    gemm_args s = conv_gemm(j, n, gi, flat ? (float*)conv_x(j, n, gi) : col);
    gemm_tile(&s, 0, s.m, 0, s.n, pack);
    if (j->pass == FORWARD) epilogue(j, n, gi * j->og, (gi + 1) * j->og);
  } else {
    gemm_args s = conv_gemm(j, n, gi, flat ? j->dx + xoff : col);
    gemm_tile(&s, 0, s.m, 0, s.n, pack);
    if (col) col2im(col, 0, j->cg, j->g, j->dx + xoff);
  }
}

static void conv_item_task(void* p, int chunk, int tid) {
  const conv_job* j = p;
  if (j->pass == BACKWARD_WEIGHT)
    for (int n = 0; n < j->g->n; n++) conv_item(j, n, chunk, tid);
  else
    conv_item(j, chunk / j->g->groups, chunk % j->g->groups, tid);
}

static void im2col_task(void* p, int chunk, int tid) {
  (void)tid;
  const conv_job* j = p;
  im2col(conv_x(j, j->n, j->gi), chunk * j->step, MIN((chunk + 1) * j->step, j->cg), j->g, j->col);
}

static void col2im_task(void* p, int chunk, int tid) {
  (void)tid;
  const conv_job* j = p;
  size_t xoff = ((size_t)j->n * j->g->c + (size_t)j->gi * j->cg) * j->g->h * j->g->w;
  col2im(j->col, chunk * j->step, MIN((chunk + 1) * j->step, j->cg), j->g, j->dx + xoff);
}

/** Whether `items` independent pieces keep every thread busy (else each piece is split across threads). */
static int enough_items(int items) { return items >= 4 * threads() || items % threads() == 0; }

static void conv_pass(conv_job* j) {
  const geometry* g = j->g;
  j->cg = g->c / g->groups, j->og = g->o / g->groups, j->kk = j->cg * g->kh * g->kw, j->hw = g->oh * g->ow;
  j->col_size = pointwise(g) ? 0 : (double)j->kk * j->hw;
  if (j->pass == BACKWARD_DATA) zero(j->dx, (size_t)g->n * g->c * g->h * g->w);
  if (j->pass == BACKWARD_WEIGHT) zero(j->dw, (size_t)g->o * j->kk);
  size_t mark = arena_top;
  int items = j->pass == BACKWARD_WEIGHT ? g->groups : g->n * g->groups;
  if (j->pass == FORWARD && direct_applies(g)) {
    j->direct = 1;
    j->per = direct_scratch(g);
    if ((j->scratch = thread_scratch(j->per))) parallel_for(conv_item_task, j, items);
    arena_top = mark;
    return;
  }
  if (enough_items(items)) {
    j->per = j->col_size + gemm_scratch(j->pass == BACKWARD_DATA ? j->kk : j->og);
    if ((j->scratch = thread_scratch(j->per))) parallel_for(conv_item_task, j, items);
    arena_top = mark;
    return;
  }
  // few pieces: each image and group in turn, its unfolding and GEMM split across the threads
  j->col = j->col_size ? arena_alloc(j->col_size) : 0;
  if (arena_missing) return;
  int chunks = split(j->cg, 4 * threads(), &j->step);
  for (int n = 0; n < g->n; n++)
    for (int gi = 0; gi < g->groups; gi++) {
      j->n = n, j->gi = gi;
      size_t xoff = ((size_t)n * g->c + (size_t)gi * j->cg) * g->h * g->w;
      if (j->pass == BACKWARD_DATA) {
        gemm_args s = conv_gemm(j, n, gi, j->col ? j->col : j->dx + xoff);
        gemm_parallel(&s);
        if (j->col) parallel_for(col2im_task, j, chunks);
      } else {
        if (j->col) parallel_for(im2col_task, j, chunks);
        gemm_args s = conv_gemm(j, n, gi, j->col ? j->col : (float*)conv_x(j, n, gi));
        gemm_parallel(&s);
        if (j->pass == FORWARD && (j->bias || j->residual || j->relu)) {
          int step = j->step, rows = split(j->og, 4 * threads(), &j->step);
          parallel_for(epilogue_task, j, rows);
          j->step = step;
        }
      }
      if (arena_missing) return;
    }
  arena_top = mark;
}

/** y = relu?(conv(x, w) + bias + residual): bias and residual may be 0, relu 0 or 1. */
EXPORT(conv2d) void conv2d(const float* x, const float* w, const float* bias, const float* residual, int relu, float* y,
                           const geometry* g) {
  conv_job j = {.pass = FORWARD, .g = g, .x = x, .w = w, .y = y, .bias = bias, .residual = residual, .relu = relu};
  conv_pass(&j);
}

/** dx = conv_transpose(dy, w): per image and group colᵀ = Wᵀ·dy, then col2im. */
EXPORT(conv2d_backward_data) void conv2d_backward_data(const float* dy, const float* w, float* dx, const geometry* g) {
  conv_job j = {.pass = BACKWARD_DATA, .g = g, .w = w, .dy = dy, .dx = dx};
  conv_pass(&j);
}

/** dw = Σ_n dy·colᵀ per group (images in order, so the sum does not depend on the thread count). */
EXPORT(conv2d_backward_weight)
void conv2d_backward_weight(const float* dy, const float* x, float* dw, const geometry* g) {
  conv_job j = {.pass = BACKWARD_WEIGHT, .g = g, .x = x, .dy = dy, .dw = dw};
  conv_pass(&j);
}

/** c[m,n] = op(a)·op(b): a is [m,k] ([k,m] when trans_a), b is [k,n] ([n,k] when trans_b). */
EXPORT(matmul) void matmul(const float* a, const float* b, float* c, int m, int k, int n, int trans_a, int trans_b) {
  gemm_args s = {m, n, k, a, trans_a ? 1 : k, trans_a ? m : 1, b, trans_b ? 1 : n, trans_b ? k : 1, c, n, 0};
  gemm_parallel(&s);
}

/** Multiply-adds in `iters` rounds of 12 independent f32x4 chains (16 would spill on x86) (the wasm peak probe's loop). */
EXPORT(madd_probe) float madd_probe(int iters) {
  v128_t acc[12], x = wasm_f32x4_splat(0.999999f), y = wasm_f32x4_splat(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = wasm_f32x4_splat((float)i);
  for (int it = 0; it < iters; it++)
    for (int i = 0; i < 12; i++) acc[i] = wasm_f32x4_add(wasm_f32x4_mul(acc[i], x), y);
  v128_t s = acc[0];
  for (int i = 1; i < 12; i++) s = wasm_f32x4_add(s, acc[i]);
  return wasm_f32x4_extract_lane(s, 0);
}

// ---- batch norm over [N, C, HW] and ReLU: the reference's arithmetic (sums and scales in double) ----
typedef struct {
  const float *x, *dy, *mean, *var, *gamma, *beta;
  float *y, *dx, *out_mean, *out_var, *dgamma, *dbeta;
  double eps;
  int n, c, hw, batch_stats, step;
} bn_job;

/** Per-channel mean and biased variance (two passes). */
static void bn_stats_task(void* p, int chunk, int tid) {
  (void)tid;
  const bn_job* j = p;
  double count = (double)j->n * j->hw;
  for (int ch = chunk * j->step; ch < MIN((chunk + 1) * j->step, j->c); ch++) {
    double s = 0, q = 0;
    for (int b = 0; b < j->n; b++) {
      const float* xs = j->x + ((size_t)b * j->c + ch) * j->hw;
      for (int i = 0; i < j->hw; i++) s += xs[i];
    }
    double m = s / count;
    for (int b = 0; b < j->n; b++) {
      const float* xs = j->x + ((size_t)b * j->c + ch) * j->hw;
      for (int i = 0; i < j->hw; i++) {
        double d = xs[i] - m;
        q += d * d;
      }
    }
    j->out_mean[ch] = (float)m;
    j->out_var[ch] = (float)(q / count);
  }
}

/** y = x·scale + shift per channel, scale = γ/√(var+eps), shift = β − mean·scale (γ, β may be 0). */
static void bn_forward_task(void* p, int chunk, int tid) {
  (void)tid;
  const bn_job* j = p;
  for (int ch = chunk * j->step; ch < MIN((chunk + 1) * j->step, j->c); ch++) {
    double invstd = 1 / __builtin_sqrt((double)j->var[ch] + j->eps);
    double scale = (j->gamma ? j->gamma[ch] : 1) * invstd, shift = (j->beta ? j->beta[ch] : 0) - j->mean[ch] * scale;
    for (int b = 0; b < j->n; b++) {
      size_t base = ((size_t)b * j->c + ch) * j->hw;
      for (int i = 0; i < j->hw; i++) j->y[base + i] = (float)(j->x[base + i] * scale + shift);
    }
  }
}

/** dβ = Σdy, dγ = Σdy·x̂; dx = γσ⁻¹/M·(M·dy − dβ − x̂·dγ) with batch statistics, else γσ⁻¹·dy. */
static void bn_backward_task(void* p, int chunk, int tid) {
  (void)tid;
  const bn_job* j = p;
  double count = (double)j->n * j->hw;
  for (int ch = chunk * j->step; ch < MIN((chunk + 1) * j->step, j->c); ch++) {
    double invstd = 1 / __builtin_sqrt((double)j->var[ch] + j->eps), mu = j->mean[ch], sdy = 0, sdyx = 0;
    for (int b = 0; b < j->n; b++) {
      size_t base = ((size_t)b * j->c + ch) * j->hw;
      for (int i = 0; i < j->hw; i++) {
        double d = j->dy[base + i];
        sdy += d;
        sdyx += d * (j->x[base + i] - mu) * invstd;
      }
    }
    j->dgamma[ch] = (float)sdyx;
    j->dbeta[ch] = (float)sdy;
    double k = (j->gamma ? j->gamma[ch] : 1) * invstd;
    for (int b = 0; b < j->n; b++) {
      size_t base = ((size_t)b * j->c + ch) * j->hw;
      if (j->batch_stats) {
        for (int i = 0; i < j->hw; i++) {
          double xhat = (j->x[base + i] - mu) * invstd;
          j->dx[base + i] = (float)(k / count * (count * j->dy[base + i] - sdy - xhat * sdyx));
        }
      } else {
        for (int i = 0; i < j->hw; i++) j->dx[base + i] = (float)(k * j->dy[base + i]);
      }
    }
  }
}

static void bn_run(task_fn fn, bn_job* j) { parallel_for(fn, j, split(j->c, 4 * threads(), &j->step)); }

EXPORT(batch_norm_stats) void batch_norm_stats(const float* x, float* mean, float* var, int n, int c, int hw) {
  bn_job j = {.x = x, .out_mean = mean, .out_var = var, .n = n, .c = c, .hw = hw};
  bn_run(bn_stats_task, &j);
}

EXPORT(batch_norm_forward)
void batch_norm_forward(const float* x, const float* mean, const float* var, const float* gamma, const float* beta,
                        double eps, float* y, int n, int c, int hw) {
  bn_job j = {.x = x, .mean = mean, .var = var, .gamma = gamma, .beta = beta, .eps = eps, .y = y, .n = n, .c = c, .hw = hw};
  bn_run(bn_forward_task, &j);
}

EXPORT(batch_norm_backward)
void batch_norm_backward(const float* dy, const float* x, const float* mean, const float* var, const float* gamma,
                         double eps, int batch_stats, float* dx, float* dgamma, float* dbeta, int n, int c, int hw) {
  bn_job j = {.dy = dy, .x = x, .mean = mean, .var = var, .gamma = gamma, .eps = eps, .batch_stats = batch_stats,
              .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .n = n, .c = c, .hw = hw};
  bn_run(bn_backward_task, &j);
}

// ---- element-wise, in ranges of 16 K elements ----
enum { RANGE = 16384 };
typedef struct {
  const float *x, *dy, *y;
  float* out;
  int len;
} map_job;

/** y = max(x, 0), NaN kept (as PyTorch); y may be x. */
static void relu_task(void* p, int chunk, int tid) {
  (void)tid;
  const map_job* j = p;
  for (int i = chunk * RANGE; i < MIN((chunk + 1) * RANGE, j->len); i++)
    j->out[i] = j->x[i] > 0 || j->x[i] != j->x[i] ? j->x[i] : 0;
}

/** dx = dy where y > 0, else 0. */
static void relu_backward_task(void* p, int chunk, int tid) {
  (void)tid;
  const map_job* j = p;
  for (int i = chunk * RANGE; i < MIN((chunk + 1) * RANGE, j->len); i++) j->out[i] = j->y[i] > 0 ? j->dy[i] : 0;
}

EXPORT(relu) void relu(const float* x, float* y, int len) {
  map_job j = {.x = x, .out = y, .len = len};
  parallel_for(relu_task, &j, (len + RANGE - 1) / RANGE);
}

EXPORT(relu_backward) void relu_backward(const float* dy, const float* y, float* dx, int len) {
  map_job j = {.dy = dy, .y = y, .out = dx, .len = len};
  parallel_for(relu_backward_task, &j, (len + RANGE - 1) / RANGE);
}

// ---- pooling (NCHW), geometry as 12 ints: n c h w oh ow kh kw sh sw ph pw; the reference's rules ----
typedef struct {
  int n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
} pool_geometry;

/** Max (padding −∞, the first maximum, a NaN always taken); average counting padding or not; adaptive average. */
enum { POOL_MAX, POOL_AVG, POOL_AVG_EXCLUDE_PAD, POOL_ADAPTIVE };

typedef struct {
  const pool_geometry* g;
  int mode;
  const float *x, *dy;
  float *y, *dx;
  int step;
} pool_job;

/** Output (oy, ox)'s window, clipped to the image: rows [y0, y1), columns [x0, x1), and its divisor. */
static double pool_window(const pool_job* j, int oy, int ox, int* y0, int* y1, int* x0, int* x1) {
  const pool_geometry* g = j->g;
  if (j->mode == POOL_ADAPTIVE) {
    *y0 = oy * g->h / g->oh, *y1 = ((oy + 1) * g->h + g->oh - 1) / g->oh;
    *x0 = ox * g->w / g->ow, *x1 = ((ox + 1) * g->w + g->ow - 1) / g->ow;
    return (double)(*y1 - *y0) * (*x1 - *x0);
  }
  int ys = oy * g->sh - g->ph, xs = ox * g->sw - g->pw, ye = ys + g->kh, xe = xs + g->kw;
  int y_pad = MIN(ye, g->h + g->ph) - ys, x_pad = MIN(xe, g->w + g->pw) - xs;
  *y0 = ys > 0 ? ys : 0, *y1 = MIN(ye, g->h), *x0 = xs > 0 ? xs : 0, *x1 = MIN(xe, g->w);
  return j->mode == POOL_AVG ? (double)y_pad * x_pad : (double)(*y1 - *y0) * (*x1 - *x0);
}

/** The index within the plane of the window's maximum (−1 for an empty window). */
static int window_argmax(const float* plane, int w, int y0, int y1, int x0, int x1) {
  float best = 0;
  int at = -1;
  for (int yy = y0; yy < y1; yy++)
    for (int xx = x0; xx < x1; xx++) {
      float v = plane[yy * w + xx];
      if (v > best || v != v || at < 0) best = v, at = yy * w + xx;
    }
  return at;
}

static void pool_forward_task(void* p, int chunk, int tid) {
  (void)tid;
  const pool_job* j = p;
  const pool_geometry* g = j->g;
  for (int pl = chunk * j->step; pl < MIN((chunk + 1) * j->step, g->n * g->c); pl++) {
    const float* plane = j->x + (size_t)pl * g->h * g->w;
    float* out = j->y + (size_t)pl * g->oh * g->ow;
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        int y0, y1, x0, x1;
        double count = pool_window(j, oy, ox, &y0, &y1, &x0, &x1), s = 0;
        if (j->mode == POOL_MAX) {
          int at = window_argmax(plane, g->w, y0, y1, x0, x1);
          out[oy * g->ow + ox] = at >= 0 ? plane[at] : __builtin_nanf("");
          continue;
        }
        for (int yy = y0; yy < y1; yy++)
          for (int xx = x0; xx < x1; xx++) s += plane[yy * g->w + xx];
        out[oy * g->ow + ox] = (float)(s / count);
      }
  }
}

static void pool_backward_task(void* p, int chunk, int tid) {
  (void)tid;
  const pool_job* j = p;
  const pool_geometry* g = j->g;
  for (int pl = chunk * j->step; pl < MIN((chunk + 1) * j->step, g->n * g->c); pl++) {
    float* dplane = j->dx + (size_t)pl * g->h * g->w;
    const float* dout = j->dy + (size_t)pl * g->oh * g->ow;
    zero(dplane, (size_t)g->h * g->w);
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        int y0, y1, x0, x1;
        double count = pool_window(j, oy, ox, &y0, &y1, &x0, &x1);
        if (j->mode == POOL_MAX) {
          int at = window_argmax(j->x + (size_t)pl * g->h * g->w, g->w, y0, y1, x0, x1);
          if (at >= 0) dplane[at] += dout[oy * g->ow + ox];
          continue;
        }
        double v = dout[oy * g->ow + ox] / count;
        for (int yy = y0; yy < y1; yy++)
          for (int xx = x0; xx < x1; xx++) dplane[yy * g->w + xx] = (float)(dplane[yy * g->w + xx] + v);
      }
  }
}

/** y = pool(x) by `mode`. */
EXPORT(pool_forward) void pool_forward(const float* x, float* y, const pool_geometry* g, int mode) {
  pool_job j = {.g = g, .mode = mode, .x = x, .y = y};
  parallel_for(pool_forward_task, &j, split(g->n * g->c, 4 * threads(), &j.step));
}

/** dx of pool by `mode` (x: the forward input, read by max pooling only). */
EXPORT(pool_backward) void pool_backward(const float* dy, const float* x, float* dx, const pool_geometry* g, int mode) {
  pool_job j = {.g = g, .mode = mode, .x = x, .dy = dy, .dx = dx};
  parallel_for(pool_backward_task, &j, split(g->n * g->c, 4 * threads(), &j.step));
}
