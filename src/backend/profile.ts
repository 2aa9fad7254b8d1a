// Kernel profiler: wraps a backend's kernel table in place to time every call, grouped by kernel
// and (for convolutions) by geometry, and to count the bytes of the new outputs each call makes, so a
// benchmark can show where a step's time and memory go.
import type { Backend, ConvGeometry, LowPrecision } from './contract';

/** Accumulated time of one kernel (and geometry). */
export interface ProfileRow {
  kernel: string;
  detail: string;
  calls: number;
  ms: number;
  gflop: number;
  /** Bytes of the new arrays the calls returned (an input returned in place counts nothing). */
  outputBytes: number;
}

/** Bytes of the typed arrays a kernel returned (one, or an object of them), leaving out its own inputs. */
function newBytes(result: unknown, args: readonly unknown[]): number {
  const views = ArrayBuffer.isView(result)
    ? [result]
    : result && typeof result === 'object'
      ? Object.values(result).filter((v) => ArrayBuffer.isView(v))
      : [];
  return views.filter((v) => !args.includes(v)).reduce((s, v) => s + (v as ArrayBufferView).byteLength, 0);
}

/** A running profile: `rows()` reads it, `stop()` restores the original kernels. */
export interface KernelProfile {
  rows(): ProfileRow[];
  reset(): void;
  stop(): void;
}

const convKernels = new Set(['conv2d', 'conv2dFused', 'conv2dBackwardData', 'conv2dBackwardWeight']);

function convDetail(g: ConvGeometry): string {
  const stride = g.strideH === 1 && g.strideW === 1 ? '' : ` s${g.strideH}`;
  const groups = g.groups === 1 ? '' : ` g${g.groups}`;
  return `${g.c}->${g.o} ${g.kh}x${g.kw}${stride}${groups} @${g.h}x${g.w}`;
}

/** Multiply-adds of one convolution (the same for its forward, backward-data and backward-weights). */
function convMacs(g: ConvGeometry): number {
  return g.n * g.o * g.oh * g.ow * (g.c / g.groups) * g.kh * g.kw;
}

/** Starts timing every kernel call of `backend` until stop(). */
export function profileBackend(backend: Backend): KernelProfile {
  const kernels = backend.kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = { ...kernels };
  const table = new Map<string, ProfileRow>();
  // the buffer pool (when there is one) attributes each output to the kernel that made it
  const markProducer = backend.bufferScope?.setProducer?.bind(backend.bufferScope) ?? (() => {});
  for (const [kernel, fn] of Object.entries(originals)) {
    kernels[kernel] = (...args: unknown[]) => {
      const start = performance.now();
      markProducer(kernel);
      const result = fn(...args);
      markProducer(null);
      const ms = performance.now() - start;
      // the geometry argument (conv2dFused has an optional precision after it)
      const g = convKernels.has(kernel)
        ? ((args.find((a) => typeof a === 'object' && a !== null && 'groups' in a) as ConvGeometry | undefined) ?? null)
        : null;
      const precision = kernel === 'conv2dFused' ? (args[6] as LowPrecision | undefined) : undefined;
      const detail = (g ? convDetail(g) : '') + (precision ? ` ${precision.kind}` : '');
      const key = `${kernel}|${detail}`;
      const row = table.get(key) ?? { kernel, detail, calls: 0, ms: 0, gflop: 0, outputBytes: 0 };
      row.calls++;
      row.ms += ms;
      row.outputBytes += newBytes(result, args);
      if (g) row.gflop += (2 * convMacs(g)) / 1e9;
      table.set(key, row);
      return result;
    };
  }
  return {
    rows: () => [...table.values()].sort((a, b) => b.ms - a.ms),
    reset: () => table.clear(),
    stop: () => Object.assign(kernels, originals),
  };
}

/** `  name  value unit  share%` for each entry, largest first; values are divided by `scale` for display. */
function shareLines(entries: Iterable<[string, number]>, scale: number, unit: string): string[] {
  const sorted = [...entries].sort((a, b) => b[1] - a[1]);
  const total = sorted.reduce((s, [, v]) => s + v, 0);
  return sorted.map(
    ([k, v]) =>
      `  ${k.padEnd(28)} ${(v / scale).toFixed(1).padStart(9)} ${unit} ${((100 * v) / total).toFixed(1).padStart(5)}%`,
  );
}

/** Sums `value` of the rows by kernel. */
function byKernel(rows: ProfileRow[], value: (r: ProfileRow) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.kernel, (out.get(r.kernel) ?? 0) + value(r));
  return out;
}

/** The profile as a text table: kernel, geometry, calls, total ms, share, GFLOP/s (convolutions). */
export function formatProfile(rows: ProfileRow[], steps: number, limit = 40): string {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const lines = [`kernel time per step: ${(total / steps).toFixed(1)} ms`, '', 'by kernel:'];
  lines.push(
    ...shareLines(
      byKernel(rows, (r) => r.ms),
      steps,
      'ms',
    ),
  );
  const bytes = byKernel(rows, (r) => r.outputBytes);
  const totalBytes = [...bytes.values()].reduce((a, b) => a + b, 0);
  lines.push('', `new outputs per step: ${(totalBytes / steps / 2 ** 20).toFixed(1)} MiB, by kernel:`);
  lines.push(
    ...shareLines(
      [...bytes].filter(([, b]) => b > 0),
      steps * 2 ** 20,
      'MiB',
    ),
  );
  lines.push('', `slowest calls by kernel and geometry (top ${limit}):`);
  for (const r of rows.slice(0, limit)) {
    const rate = r.gflop > 0 ? `${(r.gflop / (r.ms / 1000)).toFixed(1).padStart(7)} GFLOP/s` : '';
    lines.push(
      `  ${r.kernel.padEnd(22)} ${r.detail.padEnd(26)} ${(r.ms / steps).toFixed(2).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}% ${rate}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The outputs live at a step's memory peak, by the kernel that made them (empty when not known). */
export function formatPeakByKernel(bytes: Readonly<Record<string, number>>): string {
  const rows = Object.entries(bytes);
  if (rows.length === 0) return '';
  const total = rows.reduce((s, [, b]) => s + b, 0);
  const lines = [`at the step's memory peak, ${(total / 2 ** 20).toFixed(0)} MiB of outputs were live, made by:`];
  return `${[...lines, ...shareLines(rows, 2 ** 20, 'MiB')].join('\n')}\n`;
}
