import { describe, expect, it } from 'vitest';
import type { ClaimResult, LabResult, RanOn } from '../../harness/evidence/records.ts';
import { formatMatrix, kernelMatrix, matrixMarkdown, releaseOf } from '../../harness/report/kernel-matrix.ts';

function result(lab: string, kernel: string, ranOn: RanOn | undefined, claims: ClaimResult[], outcome: LabResult['outcome'] = 'ran', reason?: string): LabResult {
  const r = { schemaVersion: 4, lab, title: lab, outcome, ...(reason ? { reason } : {}), kernel, ranOn, startedAt: '2026-12-01T10:00:00.000Z', durationMs: 1, sysctls: {}, options: {}, claims, snapshots: [], events: [], tables: [] };
  if (ranOn === undefined) delete (r as Partial<LabResult>).ranOn; // a v3 result, made before ranOn existed
  return r as LabResult;
}
const claim = (id: string, verdict: ClaimResult['verdict'], saw?: number): ClaimResult => ({
  id,
  source: '000_x.txt',
  statement: `statement of ${id}`,
  verdict,
  observed: `observed ${id}`,
  checks: saw === undefined ? [{ what: 'reuse after', want: '< 1 s', role: 'part', why: 'not seen' }] : [{ what: 'reuse after', saw, want: '< 1 s', ok: saw < 1000, role: 'part', unit: 'ms' }],
});

describe('verdicts by kernel', () => {
  const results = [
    result('tw-reuse', 'Linux 6.18.44-fc x86_64', 'host', [claim('reuse', 'refuted', 1004), claim('same', 'confirmed', 5)]),
    result('tw-reuse', 'Linux 6.1.0-57-amd64 x86_64', 'emulated', [claim('reuse', 'confirmed', 780), claim('same', 'confirmed', 9)]),
    result('tw-reuse', 'Linux 6.12.115+deb12-amd64 x86_64', 'kvm', [claim('reuse', 'confirmed', 940), claim('same', 'confirmed', 7)]),
    result('rto', 'Linux 6.1.0-57-amd64 x86_64', 'emulated', [claim('fin', 'inconclusive')], 'skipped', 'this kernel (6.1.0-57-amd64) has no net.ipv4.tcp_rto_min_us, which the lab sets'),
    result('rto', 'Linux 6.18.44-fc x86_64', undefined, [claim('fin', 'confirmed', 3)]),
  ];

  it('reads the release from uname -srm', () => {
    expect(releaseOf('Linux 6.12.115+deb12-amd64 x86_64')).toBe('6.12.115+deb12-amd64');
    expect(releaseOf('')).toBe('unknown');
  });

  it('puts kernels oldest first and the host last, and marks the rows whose verdicts differ', () => {
    const m = kernelMatrix(results);
    expect(m.columns.map((c) => c.label)).toEqual(['6.1.0-57-amd64 (emulated)', '6.12.115+deb12-amd64 (kvm)', '6.18.44-fc (host)']);
    const row = (lab: string, id: string) => m.rows.find((r) => r.lab === lab && r.claim === id)!;
    expect(row('tw-reuse', 'reuse').differs).toBe(true);
    expect(row('tw-reuse', 'reuse').cells.map((c) => c.verdict)).toEqual(['confirmed', 'confirmed', 'refuted']);
    expect(row('tw-reuse', 'reuse').cells[2].figures).toEqual(['reuse after: 1004 ms']);
    expect(row('tw-reuse', 'same').differs).toBe(false);
  });

  it('shows a lab skipped on one kernel with its reason, and a kernel without that lab as missing', () => {
    const m = kernelMatrix(results);
    const fin = m.rows.find((r) => r.lab === 'rto')!;
    expect(fin.cells.map((c) => c.verdict)).toEqual(['skipped', 'missing', 'confirmed']);
    expect(fin.cells[0].note).toMatch(/has no net\.ipv4\.tcp_rto_min_us/);
    expect(fin.differs).toBe(true); // skipped vs confirmed: the kernels did not give the same answer
    const text = formatMatrix(m);
    expect(text).toMatch(/2 claims differ/);
    expect(text).toMatch(/6\.1\.0-57-amd64 \(emulated\): skipped: this kernel/);
    expect(text).toMatch(/≠ +tw-reuse +reuse +confirmed +confirmed +refuted/);
  });

  it('writes Markdown with the differing cells in bold and their figures', () => {
    const md = matrixMarkdown(kernelMatrix(results));
    expect(md.split('\n')[0]).toBe('| lab | claim | 6.1.0-57-amd64 (emulated) | 6.12.115+deb12-amd64 (kvm) | 6.18.44-fc (host) |');
    expect(md).toContain('| tw-reuse | reuse | **confirmed** (reuse after: 780 ms) | **confirmed** (reuse after: 940 ms) | **refuted** (reuse after: 1004 ms) |');
    expect(md).toContain('| tw-reuse | same | confirmed | confirmed | confirmed |');
  });

  it('says so when there is nothing to compare', () => {
    expect(formatMatrix(kernelMatrix([]))).toBe('no lab results to compare\n');
  });
});
