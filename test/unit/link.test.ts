import { expect } from 'chai';
import { readObject } from '../../lib/object/index.js';
import { encodeFuncInfo, encodeLineInfo, linkProgram } from '../../lib/object/link.js';

describe('linked programs: func_info and line_info', () => {
  for (const file of ['bpf/obj_callback.o', 'bpf/obj_subprog.o']) {
    it(`${file}: the bytes given to PROG_LOAD are the records moved with their functions, encoded`, () => {
      const s = readObject(file);
      for (const p of s.programs.values()) {
        const l = linkProgram(p, s.functions, true);
        const starts = l.layout.map((x) => x.start);
        const order = l.layout.map((x) => (s.programs.get(x.name) ?? s.functions.get(x.name))!);
        // every function's records, moved by its start, in layout order
        const funcs = order.flatMap((fn, i) => fn.funcInfo.map((f) => ({ insn: f.insn + starts[i], typeId: f.typeId })));
        const lines = order.flatMap((fn, i) => fn.lineInfo.map((r) => ({ ...r, insn: r.insn + starts[i] })));
        expect(l.funcInfo).to.deep.equal(funcs);
        expect(l.lineInfo).to.deep.equal(lines);
        expect(l.funcInfoCount).to.equal(funcs.length);
        expect(l.lineInfoCount).to.equal(lines.length);
        expect(lines.length).to.be.greaterThan(0);
        for (const le of [true, false]) {
          expect([...l.funcInfoBytes(le)]).to.deep.equal([...encodeFuncInfo(funcs, le)]);
          expect([...l.lineInfoBytes(le)]).to.deep.equal([...encodeLineInfo(lines, le)]);
        }
        // through a reused buffer: the same bytes
        const buf = new Uint8Array(4096).fill(0xee);
        let used = 0;
        const arena = { take: (n: number) => buf.subarray(used, (used += n)) };
        expect([...l.lineInfoBytes(true, arena)]).to.deep.equal([...encodeLineInfo(lines, true)]);
        const relinked = linkProgram(p, s.functions, true, undefined, arena);
        expect([...relinked.insns]).to.deep.equal([...l.insns]);
      }
    });
  }

  it('a kept link plan follows changes to the functions it laid out (same Map changed in place)', () => {
    const s = readObject('bpf/obj_callback.o');
    const p = s.programs.get('loop_prog')!;
    const fns = new Map(s.functions);
    const first = linkProgram(p, fns, true, undefined, undefined, true);
    const again = linkProgram(p, fns, true, undefined, undefined, true);
    expect([...again.insns]).to.deep.equal([...first.insns]);
    expect(again.funcInfoBytes(true)).to.equal(again.funcInfoBytes(true)); // kept from the second link on
    // the callback with one more instruction (an exit appended): the program must be laid out anew
    const cb = fns.get('add_index')!;
    const longer = new Uint8Array(cb.instructions.length + 8);
    longer.set(cb.instructions);
    longer[cb.instructions.length] = 0x95;
    fns.set('add_index', { ...cb, instructions: longer });
    const changed = linkProgram(p, fns, true, undefined, undefined, true);
    expect(changed.insns.length).to.equal(first.insns.length + 8);
    expect([...changed.insns.subarray(changed.layout[1].start * 8)]).to.deep.equal([...longer]);
  });
});
