// "Did you mean …?": names close to a misspelt one — case-insensitive, by edit distance (with
// transpositions), completions of a prefix right after exact matches, best first.

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Up to `max` candidates close to `name`, best first (an empty list when none is close). */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(lower.length / 4));
  const scored = candidates.map((c) => {
    const cl = c.toLowerCase();
    let score = editDistance(lower, cl);
    // a prefix the user typed ("resnext29") ranks its completions right after exact matches, shortest first
    if (lower.length >= 4 && cl.startsWith(lower)) score = Math.min(score, 0.5 + (cl.length - lower.length) / 1000);
    return { c, score };
  });
  const close = scored.filter((s) => s.score <= limit).sort((x, y) => x.score - y.score || x.c.localeCompare(y.c));
  // only those about as close as the best: "Resnet18" suggests resnet18, not resnet101 too
  return close
    .filter((s) => s.score <= close[0].score + 1)
    .slice(0, max)
    .map((s) => s.c);
}
