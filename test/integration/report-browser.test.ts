// report.html in a real browser: headless Chromium opens the page from file://, its DOM must hold the verdict
// table and the inline diagrams, and its screenshot must show the page (not a blank or an error page).
// Skipped when Chromium is not installed (scripts/setup.sh --browser installs it). Every Chromium process the
// test starts runs in a process group of its own and is killed with it; none may outlive the test.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadReportRun, writeReportHtml } from '../../harness/report/html.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const FIXTURE = fileURLToPath(new URL('../fixtures/report/20261201-075720-ded0/', import.meta.url));
const TIME_LIMIT_MS = 30_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone already */
  }
}

/** Run Chromium in a process group of its own; the whole group is killed when it exits or at the time limit. */
function chromium(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, TIME_LIMIT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', () => killGroup(child.pid)); // helpers (zygote, renderers) go with it
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Pids of processes whose command line mentions `marker` (our fresh profile folder). */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) out.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into its pixels. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; px: Buffer } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let p = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('ascii', p + 4, p + 8);
    const data = buf.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[12]]).toEqual([8, 0]); // 8 bits per channel, not interlaced
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]];
      expect(channels).toBeDefined();
    } else if (type === 'IDAT') idat.push(data);
    p += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y ? px[(y - 1) * stride + x - channels] : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      px[y * stride + x] = (v + [0, a, b, (a + b) >> 1, paeth][filter]) & 255;
    }
  }
  return { width, height, channels, px };
}

const why = 'chromium not installed: scripts/setup.sh --browser';

describe('report.html in headless Chromium', () => {
  if (!CHROMIUM) {
    it.skip(`renders the verdict table and the diagrams (${why})`, () => {});
    return;
  }

  it('renders the verdict table and the diagrams, and the screenshot shows the page', { timeout: 90_000 }, async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tcplab-browser-'));
    const profile = path.join(root, 'profile');
    onTestFinished(() => {
      for (const pid of processesWith(profile)) killGroup(pid); // only ours: they carry our fresh profile folder
      rmSync(root, { recursive: true, force: true });
    });
    const runDir = path.join(root, '20261201-075720-ded0');
    cpSync(FIXTURE, runDir, { recursive: true });
    const run = await loadReportRun(runDir);
    const diagrams = run.labs.reduce((n, l) => n + l.diagrams.length, 0);
    const claims = run.labs.reduce((n, l) => n + l.result.claims.length, 0);
    const url = pathToFileURL(await writeReportHtml(runDir)).href;
    const common = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];

    const dom = await chromium([...common, '--dump-dom', url]);
    expect(dom.timedOut, dom.stderr).toBe(false);
    expect(dom.code, dom.stderr).toBe(0);
    const html = dom.stdout;
    expect(html).toContain('<h1>tcp-lab run <span class="mono">20261201-075720-ded0</span></h1>');
    const table = html.slice(html.indexOf('<table class="verdicts">'), html.indexOf('</table>', html.indexOf('<table class="verdicts">')));
    expect((table.match(/<tbody>[^]*<\/tbody>/)?.[0].match(/<tr>/g) ?? []).length).toBe(claims);
    expect((table.match(/class="badge v-(confirmed|refuted)"/g) ?? []).length).toBe(claims);
    expect((html.match(/<svg\b/g) ?? []).length).toBe(diagrams);
    expect((html.match(/<figure\b/g) ?? []).length).toBe(diagrams);
    expect(html).toContain('<marker id="active-close-d1-arrow"');

    const shot = path.join(root, 'shot.png');
    const s = await chromium([...common, `--screenshot=${shot}`, '--window-size=1280,2000', url]);
    expect(s.timedOut, s.stderr).toBe(false);
    expect(s.code, s.stderr).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    const png = decodePng(readFileSync(shot));
    expect([png.width, png.height]).toEqual([1280, 2000]);
    const seen = new Map<string, number>();
    for (let i = 0; i < png.px.length; i += png.channels) {
      const rgb = png.px.subarray(i, i + 3).toString('hex');
      seen.set(rgb, (seen.get(rgb) ?? 0) + 1);
    }
    expect(seen.size).toBeGreaterThan(50); // text, badges, tables: not a blank page
    // the page's own colours: the sidebar, and the confirmed and refuted badges of the verdict table
    for (const colour of ['f6f8fa', 'dafbe1', 'ffebe9']) expect(seen.get(colour) ?? 0, colour).toBeGreaterThan(50);

    const left = processesWith(profile);
    expect(left, `chromium processes left: ${left.join(', ')}`).toEqual([]);
  });
});
