// Matrices as data: axes of variants (reuse modes, tw_reuse × timestamps × topology, signal × role) expand to
// cells, each cell runs one experiment, and its evidence is kept beside the cell's coordinates.
import { WaitTimeout } from '../errors.ts';

/** axis name → its values, e.g. { old: ['none', 'reuseaddr'], next: ['none', 'reuseaddr'] } */
export type Axes = Record<string, readonly unknown[]>;
/** One combination: one value per axis. */
export type CellOf<A extends Axes> = { [K in keyof A]: A[K][number] };
/** A cell with what its experiment returned (evidence), or the set-up error that left it without any. */
export type CellResult<A extends Axes, R> = CellOf<A> & { evidence?: R; error?: string };

export interface MatrixOptions {
  /** run the cells at once (each must use its own ports); default one after another */
  concurrent?: boolean;
}

/** Every combination of the axes, first axis slowest. */
export function cellsOf<A extends Axes>(axes: A): CellOf<A>[] {
  return Object.entries(axes).reduce<Record<string, unknown>[]>(
    (acc, [name, values]) => acc.flatMap((cell) => values.map((v) => ({ ...cell, [name]: v }))),
    [{}],
  ) as CellOf<A>[];
}

/** Run fn per cell; a WaitTimeout in a cell becomes that cell's `error` (missing evidence), anything else throws. */
export async function runCells<A extends Axes, R>(
  axes: A,
  fn: (cell: CellOf<A>) => Promise<R>,
  o: MatrixOptions & { onError?: (cell: CellOf<A>, message: string) => void } = {},
): Promise<CellResult<A, R>[]> {
  const one = async (cell: CellOf<A>): Promise<CellResult<A, R>> => {
    try {
      return { ...cell, evidence: await fn(cell) };
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err;
      o.onError?.(cell, err.message);
      return { ...cell, error: err.message };
    }
  };
  const cells = cellsOf(axes);
  if (o.concurrent) return Promise.all(cells.map(one));
  const out: CellResult<A, R>[] = [];
  for (const c of cells) out.push(await one(c));
  return out;
}

/** Find the cell with these coordinates (undefined when it was not run). */
export function cellAt<A extends Axes, R>(cells: readonly CellResult<A, R>[], at: Partial<CellOf<A>>): CellResult<A, R> | undefined {
  return cells.find((c) => Object.entries(at).every(([k, v]) => (c as Record<string, unknown>)[k] === v));
}
