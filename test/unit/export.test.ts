// The exporter's pure rules (lib/export/samples.ts) on plain values and hand-made codec types:
// label names that stay distinct, exact per-CPU sums, parts of values that are no quantity.
import { expect } from 'chai';
import { entrySamples, keyLabels, notQuantities } from '../../lib/export/samples.js';
import type { CodecType, CodecTypeSource } from '../../lib/codec/types.js';
import type { Labels } from '../../lib/export/samples.js';
import { EXPOSITION_CONTENT_TYPE, formatFamily } from '../../lib/export/exposition.js';
import { acceptsGzip, ExportError, failureKind, mapErrorWarner } from '../../lib/export/exporter.js';
import { BpfError } from '../../lib/syscall/errors.js';

const source = (types: Record<number, CodecType>): CodecTypeSource => ({ get: (id) => types[id] ?? { kind: 'void' } });

describe('exporter samples: edge cases', () => {
  it('key fields whose label names coincide once flattened keep both values (a_b and a.b)', () => {
    expect(keyLabels({ a_b: 1, a: { b: 2 } })).to.deep.equal({ a_b: '1', a_b_2: '2' });
    expect(keyLabels({ 'x-y': 1, x_y: 2, x: { y: 3 } })).to.deep.equal({ x_y: '1', x_y_2: '2', x_y_3: '3' });
    // names an Object has by inheritance are free label names; path and index are the exporter's own
    expect(entrySamples('m', { path: 'm' }, { constructor: 1, toString: 2, path: 3, key_path: 4 }, 5, false)[0].labels)
      .to.deep.equal({ constructor: '1', toString: '2', key_path: '3', key_path_2: '4', path: 'm' });
  });

  it('a key array of structs gives each element labels of its own (all elements were "[object Object]": distinct keys merged)', () => {
    expect(keyLabels({ p: [{ a: 1, b: 2 }, { a: 3, b: 4 }], pad: [0, 0] })).to.deep.equal({ p_0_a: '1', p_0_b: '2', p_1_a: '3', p_1_b: '4', pad: '0,0' });
    expect(keyLabels([{ a: 1 }, { a: 2 }])).to.deep.equal({ key_0_a: '1', key_1_a: '2' });
    expect(keyLabels({ m: [[{ a: 1 }], [{ a: 2 }]], mm: [[1, 2], [3, 4]] })).to.deep.equal({ m_0_0_a: '1', m_1_0_a: '2', mm: '1,2,3,4' });
  });

  it('value fields that flatten to one name are two series, not one sum; array elements by index', () => {
    expect(entrySamples('m', { path: 'm' }, 0, { rx_bytes: 1n, rx: { bytes: 2n }, h: [{ n: 1 }, { n: 2 }] }, false).map((s) => [s.metric, s.labels.index, s.value])).to.deep.equal([
      ['m_rx_bytes', undefined, 1], ['m_rx_bytes_2', undefined, 2], ['m_h_n', '0', 1], ['m_h_n', '1', 2],
    ]);
  });

  it('per-CPU 64-bit values are summed exactly and rounded once', () => {
    // float64 additions would give 2^53: 2^53+1 rounds down, then each +1 is lost
    const s = entrySamples('m', { path: 'm' }, 0, [2n ** 53n + 1n, 1n, 0n], true);
    expect(s).to.deep.equal([{ metric: 'm', labels: { key: '0', path: 'm' }, value: 2 ** 53 + 2 }]);
  });

  it('char arrays and pointers are no quantity (through typedefs, arrays, anonymous members, at the top)', () => {
    const src = source({
      1: { kind: 'int', name: 'char', size: 1, signed: true, char: true, bool: false, bitOffset: 0, bits: 8 },
      2: { kind: 'int', name: 'unsigned char', size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 },
      3: { kind: 'array', type: 1, count: 16 },
      4: { kind: 'array', type: 2, count: 6 },
      5: { kind: 'ptr' },
      6: { kind: 'alias', type: 3 },
      7: { kind: 'struct', name: 'inner', size: 24, members: [{ name: 'comm', type: 6, bitOffset: 0, bitSize: 0 }, { name: 'owner', type: 5, bitOffset: 128, bitSize: 0 }] },
      8: { kind: 'array', type: 7, count: 2 },
      9: { kind: 'union', name: '', size: 8, members: [{ name: 'p', type: 5, bitOffset: 0, bitSize: 0 }, { name: 'mac', type: 4, bitOffset: 0, bitSize: 0 }] },
      10: { kind: 'struct', name: 'v', size: 64, members: [
        { name: 'procs', type: 8, bitOffset: 0, bitSize: 0 },
        { name: '', type: 9, bitOffset: 384, bitSize: 0 },
        { name: 'tag-x', type: 3, bitOffset: 448, bitSize: 0 },
      ] },
    });
    // u8 arrays are numbers (the codecs read them so, whatever the bytes)
    expect([...notQuantities(src, 10)].sort()).to.deep.equal(['p', 'procs_comm', 'procs_owner', 'tag_x']);
    expect([...notQuantities(src, 3)]).to.deep.equal(['']);
  });
});

describe('exporter: exposition text', () => {
  it("is prom-client's text, with every label set its own series where prom-client's Gauge merged two", async () => {
    const { Gauge, Registry } = await import('prom-client');
    const registry = new Registry();
    const help = 'a \\ help\nover two lines';
    const g = new Gauge({ name: 'm', help, labelNames: ['a', 'b', 'path'], registers: [registry] });
    const series: [Labels, number][] = [
      [{ a: 'x"y', b: 'back\\slash', path: 'p' }, 1], [{ a: 'line\nfeed', b: '\t', path: 'p' }, -2.5],
      [{ a: '', path: 'q' }, 2 ** 53 + 2], [{ a: 'ü €', b: '=,:{}', path: 'q' }, 1e21], [{ path: 'r' }, Infinity], [{ a: '-', b: '-', path: 'r' }, -Infinity],
    ];
    for (const [l, v] of series) g.set(l, v);
    const samples = series.map(([labels, value]) => ({ labels, value }));
    expect(await formatFamily('m', help, 'gauge', samples)).to.equal(await registry.getSingleMetricAsString('m'));
    expect(EXPOSITION_CONTENT_TYPE).to.equal(Registry.PROMETHEUS_CONTENT_TYPE);
    // prom-client's Gauge keys series by 'name:value,' joined: these two are one series there
    const merging = [{ labels: { a: 'x,b:y', b: 'z' }, value: 1 }, { labels: { a: 'x', b: 'y,b:z' }, value: 2 }];
    const g2 = new Gauge({ name: 'c', help: 'h', labelNames: ['a', 'b'], registers: [registry] });
    for (const s of merging) g2.set(s.labels, s.value);
    expect((await registry.getSingleMetricAsString('c')).split('\n')).to.have.length(3);
    expect((await formatFamily('c', 'h', 'counter', merging)).split('\n')).to.deep.equal([
      '# HELP c h', '# TYPE c counter', 'c{a="x,b:y",b="z"} 1', 'c{a="x",b="y,b:z"} 2',
    ]);
  });
});

describe('exporter: read failures', () => {
  it('one warning per map and kind of failure; another kind, another map: another line', () => {
    const lines: string[] = [];
    const warn = mapErrorWarner((l) => lines.push(l));
    const eperm = () => new BpfError('MAP_LOOKUP_ELEM', 1);
    warn('/b/m', eperm());
    warn('/b/m', eperm());
    warn('/b/m', new BpfError('MAP_LOOKUP_ELEM', 13));
    warn('/b/m', new BpfError('BTF_GET_FD_BY_ID', 1));
    warn('/b/n', eperm());
    warn('/b/n', Object.assign(new Error('readdir'), { code: 'EACCES' }));
    warn('/b/n', Object.assign(new Error('readdir again'), { code: 'EACCES' }));
    expect(lines.map((l) => l.slice(0, l.indexOf(' (not repeated')))).to.deep.equal([
      'warning: /b/m: MAP_LOOKUP_ELEM: EPERM (Operation not permitted)',
      'warning: /b/m: MAP_LOOKUP_ELEM: EACCES (Permission denied)',
      'warning: /b/m: BTF_GET_FD_BY_ID: EPERM (Operation not permitted)',
      'warning: /b/n: MAP_LOOKUP_ELEM: EPERM (Operation not permitted)',
      'warning: /b/n: readdir',
    ]);
    expect(lines.every((l) => l.endsWith(' (not repeated: tsbpf_export_map_read_errors_total counts them)\n'))).to.equal(true);
  });

  it('the kind of a failure: the bpf() command and errno (through an ExportError), a file system code, else the class', () => {
    expect(failureKind(new ExportError('wrapped', { cause: new BpfError('OBJ_GET', 13) }))).to.equal('OBJ_GET: EACCES');
    expect(failureKind(Object.assign(new Error('x'), { code: 'ENOTDIR' }))).to.equal('ENOTDIR');
    expect(failureKind(new TypeError('x'))).to.equal('TypeError');
    expect(failureKind('a string')).to.equal('string');
  });
});

describe('exporter: Accept-Encoding', () => {
  it('gzip when named or under *, not with q=0', () => {
    for (const h of ['gzip', 'gzip, deflate', 'deflate, GZIP;q=0.5', '*', 'identity, *;q=1', '*;q=0, gzip']) expect(acceptsGzip(h), h).to.equal(true);
    for (const h of [undefined, '', 'identity', 'deflate, br', 'gzip;q=0', 'gzip;q=0, *', '*;q=0', 'xgzip']) expect(acceptsGzip(h), String(h)).to.equal(false);
  });
});
