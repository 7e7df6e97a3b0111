// Sorting the names the harness shows (sysctls, labs, claims, states, run keys) by their code units. Not
// localeCompare: the first collation in a process loads ICU's data, 9-37 ms here and about a third of a second
// in an emulated guest, to order names that are plain ASCII.

/** a before b by code units (for ASCII: digits and punctuation before letters, capitals before small letters) */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** as byText, but runs of digits compare as numbers: "lab.2" before "lab.10" */
export function byNatural(a: string, b: string): number {
  const xs = a.match(/\d+|\D+/g) ?? [];
  const ys = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const [x, y] = [xs[i], ys[i]];
    const d = /^\d/.test(x) && /^\d/.test(y) ? Number(x) - Number(y) || byText(x, y) : byText(x, y);
    if (d) return d;
  }
  return xs.length - ys.length;
}
