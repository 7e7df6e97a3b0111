// What the kernel-access modules (faults, namespaces) and actors need from a running lab: somewhere to record
// events, teardown to register, the abort signal and the lab's own host. The lab context implements it; keeping
// it here lets those modules sit below the lab layer (imports point down only).
import type { Host } from './host.ts';

export interface Recorder {
  readonly host: Host;
  readonly signal: AbortSignal;
  /** sysctls set inside the sandbox, as read back (name, or "host:name" for another namespace) */
  readonly sysctls: Record<string, string>;
  /** record an event (errno seen, kill, fault rule) */
  event(kind: string, detail: string, data?: Record<string, unknown>, host?: Host): unknown;
  /** a remark worth keeping in the story */
  note(text: string): void;
  /** register teardown (last in, first out; runs however the lab ends) */
  defer(fn: () => unknown): void;
  /** the run's packet captures, when it has them: a new namespace is captured from its creation */
  readonly captures?: {
    add(host: string, within: <T>(fn: () => T) => T): void;
    alias(host: string, alias: string): void;
  };
}
