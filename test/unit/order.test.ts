// The harness's name orders (harness/order.ts): code units, and numbers inside names as numbers.
import { describe, expect, it } from 'vitest';
import { byNatural, byText } from '../../harness/order.ts';

describe('name orders', () => {
  it('byText: code units, so punctuation and digits come before letters, capitals before small letters', () => {
    expect(['tcp_tw_reuse', 'tcp_fin_timeout', 'tcp-x', 'TIME-WAIT', 'tcp_fin', 'a', ''].sort(byText)).toEqual(['', 'TIME-WAIT', 'a', 'tcp-x', 'tcp_fin', 'tcp_fin_timeout', 'tcp_tw_reuse']);
  });

  it('byNatural: repeats in numeric order, names first', () => {
    expect(['lab.10', 'lab.2', 'lab', 'lab.1', 'b.1', 'lab.02'].sort(byNatural)).toEqual(['b.1', 'lab', 'lab.1', 'lab.02', 'lab.2', 'lab.10']);
    expect(['x@6.12.117', 'x@6.1.0', 'x@6.18.44'].sort(byNatural)).toEqual(['x@6.1.0', 'x@6.12.117', 'x@6.18.44']);
  });
});
