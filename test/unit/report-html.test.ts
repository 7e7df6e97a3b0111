// report.html, rendered from a recorded run folder (test/fixtures/report/, made by running the labs for real;
// the two SVGs are small hand-made stand-ins for a ladder and a timeline).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import type { LabResult } from '../../harness/evidence/records.ts';
import { inlineSvg } from '../../harness/report/html-kit.ts';
import { loadReportRun, renderReportHtml, writeReportHtml, type ReportRun } from '../../harness/report/html.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/report/20261201-075720-ded0/', import.meta.url));
const titles = { '000_c4090bf7a4c28683.txt': 'TIME_WAIT' };

function copyRun(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'tcplab-html-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, '20261201-075720-ded0');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('report.html from a run folder', () => {
  it('loads the run: marker, labs in the marker order, each lab diagrams and files', async () => {
    const run = await loadReportRun(FIXTURE);
    expect(run.id).toBe('20261201-075720-ded0');
    expect(run.marker?.machine?.kernel).toBe('Linux 6.18.44-fc-v657 x86_64');
    expect(run.labs.map((l) => l.result.lab)).toEqual(['time-wait-restart', 'close-wait-leak', 'active-close']);
    const ac = run.labs[2];
    expect(ac.files).toEqual(['capture-sandbox.pcap', 'ladder-sandbox.svg', 'result.json']);
    expect(ac.diagrams.map((d) => [d.file, d.kind, d.host])).toEqual([['ladder-sandbox.svg', 'ladder', 'sandbox']]);
    expect(ac.diagrams[0].svg).toMatch(/^<svg /);
    expect(run.labs[1].diagrams.map((d) => d.kind)).toEqual(['timeline']);
    expect(run.problems).toBeUndefined();
  });

  it('renders the header, a verdict row per claim linking to its section, and a sidebar by lab and claim', async () => {
    const run = await loadReportRun(FIXTURE);
    const html = renderReportHtml(run, { titles });
    const claims = run.labs.flatMap((l) => l.result.claims.map((c) => [l.result.lab, c] as const));
    expect(claims).toHaveLength(13);
    const table = html.slice(html.indexOf('<table class="verdicts">'), html.indexOf('</table>', html.indexOf('<table class="verdicts">')));
    expect(count(table, /<tr>/g)).toBe(1 + claims.length);
    for (const [lab, c] of claims) {
      const id = `claim-${lab}--${c.id}`;
      expect(count(html, new RegExp(` id="${id}"`, 'g'))).toBe(1); // the section exists, once
      expect(table).toContain(`<a href="#${id}">${c.id}</a>`);
      expect(html).toMatch(new RegExp(`<nav[^]*href="#${id}"[^]*</nav>`));
    }
    expect(count(table, /class="badge v-refuted"/g)).toBe(2);
    expect(count(table, /class="badge v-confirmed"/g)).toBe(11);
    expect(html).toContain('<dt>kernel</dt><dd>Linux 6.18.44-fc-v657 x86_64</dd>');
    expect(html).toContain('<dt>CPUs</dt><dd>2 × AMD EPYC</dd>');
    expect(html).toContain('<code>npm run lab -- time-wait-restart close-wait-leak active-close</code>');
    expect(html).toContain('<td>net.ipv4.tcp_tw_reuse</td><td>2</td>');
    expect(html).toContain('title="“TIME_WAIT” (000)">000</td>');
  });

  it('inlines each diagram once and links the lab files relatively', async () => {
    const html = renderReportHtml(await loadReportRun(FIXTURE), { titles });
    expect(count(html, /<svg\b/g)).toBe(2);
    expect(html).toContain('<marker id="active-close-d1-arrow"');
    expect(html).toContain('marker-end="url(#active-close-d1-arrow)"');
    for (const href of ['active-close/capture-sandbox.pcap', 'active-close/ladder-sandbox.svg', 'active-close/result.json', 'close-wait-leak/timeline.svg']) expect(html).toContain(`href="${href}"`);
    expect(html).toContain('<code>tcpdump -nr capture-sandbox.pcap</code>');
    expect(html).toContain('<td>sandbox</td><td><a href="active-close/capture-sandbox.pcap">capture-sandbox.pcap</a></td><td>33</td><td>2312</td><td>0</td>');
    expect(html).toMatch(/… \d+ more socket\(s\) in <a href="time-wait-restart\/snapshots\/01-sandbox-after-the-restarts.txt">/);
  });

  it('is self-contained: no script, no style sheet or image from elsewhere, every link relative or in-page', async () => {
    const html = renderReportHtml(await loadReportRun(FIXTURE), { titles });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import/i);
    const refs = [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(30);
    for (const r of refs) expect(r, r).toMatch(/^(#[a-z0-9-]+|[a-z0-9-]+\/[A-Za-z0-9._/-]+)$/);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:|url\((?!#)/);
    expect(html).toMatch(/@media print \{/);
  });

  it('escapes everything that comes from a result', async () => {
    const run = await loadReportRun(FIXTURE);
    const evil = '<img src=x onerror=alert(1)> & "quotes"';
    const lab = run.labs[0];
    const r: LabResult = { ...lab.result, title: evil, claims: [{ ...lab.result.claims[0], id: 'a<b', statement: evil, observed: evil }], tables: [{ title: evil, columns: [evil], rows: [[evil]] }] };
    const html = renderReportHtml({ ...run, labs: [{ ...lab, result: r }] }, { titles });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('id="claim-time-wait-restart--a-b"');
  });

  it('is deterministic, and writeReportHtml writes report.html into the run folder', async () => {
    const dir = copyRun();
    const file = await writeReportHtml(dir, { titles });
    expect(file).toBe(path.join(dir, 'report.html'));
    const first = readFileSync(file, 'utf8');
    expect(renderReportHtml(await loadReportRun(dir), { titles })).toBe(first);
    expect(first).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
  });

  it('names the lab folders it could not read, and refuses a folder that is not there', async () => {
    const dir = copyRun();
    writeFileSync(path.join(dir, 'close-wait-leak', 'result.json'), '{ not json');
    rmSync(path.join(dir, 'run.json'));
    const run = await loadReportRun(dir);
    expect(run.marker).toBeUndefined();
    expect(run.labs.map((l) => l.result.lab)).toEqual(['active-close', 'time-wait-restart']);
    expect(run.problems).toEqual(['close-wait-leak: result.json is not valid JSON']);
    const html = renderReportHtml(run, { titles });
    expect(html).toContain('<li>close-wait-leak: result.json is not valid JSON</li>');
    expect(html).toContain('<dt>kernel</dt><dd>Linux 6.18.44-fc-v657 x86_64</dd>'); // from the results when run.json is missing
    await expect(loadReportRun(path.join(dir, 'nope'))).rejects.toThrow(UserError);
    await expect(loadReportRun(path.join(dir, 'nope'))).rejects.toThrow(/^no run folder at /);
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false);
  });

  it('counts the pcaps and diagrams of a matrix lab instead of listing them all in its files line', () => {
    const r: LabResult = JSON.parse(readFileSync(new URL('../fixtures/report/tw-reuse.result.json', import.meta.url), 'utf8'));
    const pcaps = r.captures!.map((c) => c.file);
    const html = renderReportHtml({ id: 'r', labs: [{ result: r, diagrams: [], files: ['result.json', 'snapshots', 'writeup.md', ...pcaps] }] }, { titles });
    const files = html.slice(html.indexOf('<p class="files">'), html.indexOf('</p>', html.indexOf('<p class="files">')));
    expect(files).toContain(`<a href="#lab-tw-reuse-captures">${pcaps.length} pcaps</a>`);
    expect(files).toContain('<a href="tw-reuse/snapshots/">snapshots/</a>');
    expect(files).not.toContain('.pcap');
    expect(html).toContain('<h4 id="lab-tw-reuse-captures">Packet captures</h4>');
    expect(count(html, /<td><a href="tw-reuse\/capture-[a-z0-9-]+\.pcap">/g)).toBe(pcaps.length);
    expect(html).toContain('<span class="badge v-partly">partly</span>');
  });

  it('renders a run with no labs', () => {
    const run: ReportRun = { id: 'r', labs: [] };
    const html = renderReportHtml(run, { titles });
    expect(html).toContain('No lab in this run graded a claim.');
    expect(html).toContain('0 lab(s) · no claims');
  });
});

describe('inlining an SVG', () => {
  it('keeps the drawing and drops what could run code or load anything', () => {
    const svg = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
      '<!-- a comment -->',
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">',
      '<script>alert(2)</script><script href="x.js"/>',
      '<style>body { display: none }</style>',
      '<defs><linearGradient id="g"/></defs>',
      '<rect width="10" height="10" fill="url(#g)" onclick=\'alert(3)\' ONMOUSEOVER=alert(4)/>',
      '<a href="https://example.com/"><text x="1" y="9" font-family="monospace">on=ok once</text></a>',
      '<image href="http://example.com/x.png"/><use href="#g"/>',
      '<foreignObject><div>html</div></foreignObject>',
      '<rect fill="url(http://example.com/p.svg#x)"/>',
      '</svg>',
      'trailing',
    ].join('\n');
    const out = inlineSvg(svg, 'p-');
    expect(out).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="10" height="10">/);
    expect(out).toMatch(/<\/svg>$/);
    expect(out).not.toMatch(/<\?xml|DOCTYPE|comment|script|alert|<style|display: none|foreignObject|example\.com/i);
    expect(out).toContain('<linearGradient id="p-g"/>');
    expect(out).toContain('fill="url(#p-g)"');
    expect(out).toContain('<use href="#p-g"/>');
    expect(out).toContain('>on=ok once</text>'); // text content is not an attribute
    expect(out).toContain('<rect fill="none"/>');
    expect(inlineSvg('no svg here', 'p-')).toBe('');
  });
});
