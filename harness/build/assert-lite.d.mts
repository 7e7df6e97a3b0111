export function strictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
export function notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
declare const assert: { strictEqual: typeof strictEqual; notStrictEqual: typeof notStrictEqual };
export default assert;
