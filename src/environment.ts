// The RESNEXT_* environment variables, read in this one place (Node only; the browser entry has none).

/** What the environment asks of the library and the CLI. */
export interface ResnextEnvironment {
  /** RESNEXT_BACKEND: the default backend by name (the CLI's --backend wins over it). */
  backend: string | undefined;
  /** RESNEXT_THREADS: threads for a backend that has them (the CLI's --threads wins over it). */
  threads: string | undefined;
  /** RESNEXT_DISABLE_NATIVE: never load the native addon. */
  disableNative: boolean;
  /** RESNEXT_BLOCKED_LAYOUTS=0: keep native inference activations in plain NCHW (for comparisons). */
  blockedLayouts: boolean;
  /** RESNEXT_PLAIN_GROUPED_CONV: train grouped convolutions on oneDNN's plain NCHW path (for comparisons). */
  plainGroupedConv: boolean;
  /** RESNEXT_ONEDNN_GROUPED_CONV: inference's grouped 3x3 convolutions in oneDNN, not our kernels (comparisons). */
  oneDnnGroupedConv: boolean;
  /** RESNEXT_DEBUG: print stack traces with CLI errors. */
  debug: boolean;
}

/** The variables of `env` (process.env by default), with empty strings treated as unset. */
export function readEnvironment(env: Record<string, string | undefined> = process.env): ResnextEnvironment {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  return {
    backend: value('RESNEXT_BACKEND'),
    threads: value('RESNEXT_THREADS'),
    disableNative: value('RESNEXT_DISABLE_NATIVE') !== undefined,
    blockedLayouts: value('RESNEXT_BLOCKED_LAYOUTS') !== '0',
    plainGroupedConv: value('RESNEXT_PLAIN_GROUPED_CONV') !== undefined,
    oneDnnGroupedConv: value('RESNEXT_ONEDNN_GROUPED_CONV') !== undefined,
    debug: value('RESNEXT_DEBUG') !== undefined,
  };
}
