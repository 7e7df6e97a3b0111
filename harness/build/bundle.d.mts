// Types of the part of bundle.mjs that TypeScript code imports (build.mjs loads the rest itself).

/** Bundle stand-alone scripts (output name -> source file) into outdir/<name>.mjs, runnable with plain node. */
export function bundleScripts(entries: Record<string, string>, outdir: string): Promise<void>;
