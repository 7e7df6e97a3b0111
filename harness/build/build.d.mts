// Types of build.mjs (plain JavaScript, as it runs before any TypeScript loader; bundle.mjs and key.mjs are its own).

/** manifest.json of a build: where its entries are, relative to its folder */
export interface Manifest {
  key: string;
  /** absolute path of the labs folder it was built from */
  labsDir: string;
  cli: string;
  runner: string;
  /** lab name -> its bundle */
  labs: Record<string, string>;
}

export interface Build {
  /** the build's folder */
  dir: string;
  manifest: Manifest;
  /** made by this call (false: found in the cache) */
  built: boolean;
  /** how long finding or making it took */
  ms: number;
}

export const ROOT: string;
export const DEFAULT_CACHE: string;
export const DEFAULT_LABS_DIR: string;
/** the content hash that names the build of the harness with the labs in `labsDir` */
export function buildKey(labsDir?: string): string;
export function readManifest(dir: string): Manifest | undefined;
/** the build for the current sources, found in the cache or made now; throws when esbuild cannot build them */
export function ensureBuild(o?: { labsDir?: string; cacheDir?: string; settleMs?: number }): Promise<Build>;
/** The esbuild plugin that gives every bundled module its source file's import.meta.url. */
export function sourceUrlsPlugin(): Promise<import('esbuild').Plugin>;
