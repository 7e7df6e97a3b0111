// Which kernel a result comes from and where that kernel runs: light enough for the CLI, which records both for
// runs that never reached a sandbox (the runner records them for the labs it runs).
import os from 'node:os';
import type { RanOn } from './records.ts';

/** The kernel this run observed, as `uname -srm` would print it. */
export function kernelName(): string {
  return `${os.type()} ${os.release()} ${os.machine()}`;
}

/** Where this kernel runs: a guest's init sets TCP_LAB_RAN_ON (kvm or emulated); anything else is the host. */
export function ranOn(): RanOn {
  const v = process.env.TCP_LAB_RAN_ON;
  return v === 'kvm' || v === 'emulated' ? v : 'host';
}
