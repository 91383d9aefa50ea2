// One message for every misspelled name a user types (strategy, workload, workload
// parameter, metric, cost profile, cost key): `unknown strategy "x"; did you mean
// linux-6.18?`, or the valid names when none is close. Kept free of imports so that the
// strategy, workload and profile registries can all use it without pulling each other in.

/** Optimal-string-alignment distance (Damerau-Levenshtein with adjacent transpositions
 *  counted as one edit, each substring edited once): "lniux" is one edit from "linux". */
export function editDistance(a: string, b: string): number {
  const n = a.length, m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // Three rolling rows: the transposition looks two rows back.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** How many edits still count as a typo of a name this long: short names allow one (two
 *  edits turn "cpus" into "pages"-like noise), longer ones up to three. */
function threshold(len: number): number {
  return len <= 4 ? 1 : len <= 9 ? 2 : 3;
}

/** The valid names `name` is most likely a misspelling of (best first, at most three);
 *  empty when none is close. Case is ignored, and a name that is a unique part of a valid
 *  one ("6.18", "pingpong" without its dash) counts as close. */
export function closestNames(name: string, known: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const squash = (s: string) => s.toLowerCase().replace(/[-_.\s]/g, '');
  const exactish = known.filter((k) => k.toLowerCase() === lower || squash(k) === squash(name));
  if (exactish.length > 0) return exactish.slice(0, 3);
  // Equally distant names: the one of the typed length first ("linux-6.81" is two digits
  // swapped in linux-6.18 sooner than one too many in linux-6.1).
  const scored = known
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase()), l: Math.abs(k.length - name.length) }))
    .filter((x) => x.d <= threshold(Math.max(name.length, 1)))
    .sort((x, y) => x.d - y.d || x.l - y.l || x.k.localeCompare(y.k));
  if (scored.length > 0) {
    const { d, l } = scored[0];
    return scored.filter((x) => x.d === d && x.l === l).slice(0, 3).map((x) => x.k);
  }
  if (lower.length >= 3) {
    const parts = known.filter((k) => k.toLowerCase().includes(lower));
    if (parts.length >= 1 && parts.length <= 3) return parts;
  }
  return [];
}

/** `unknown <what> "<name>"; did you mean <a>?` or, with nothing close, the valid names. */
export function unknownNameMessage(what: string, name: string, known: readonly string[]): string {
  const shown = name.length > 60 ? `${name.slice(0, 57)}...` : name;
  const close = closestNames(name, known);
  if (close.length === 1) return `unknown ${what} "${shown}"; did you mean ${close[0]}?`;
  if (close.length > 1) return `unknown ${what} "${shown}"; did you mean ${close.slice(0, -1).join(', ')} or ${close[close.length - 1]}?`;
  return `unknown ${what} "${shown}"; valid: ${known.join(', ')}`;
}
