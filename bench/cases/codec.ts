// Typed decode through BTF (lib/codec): ns per value decoding 100k struct values packed back to
// back (as a batch lookup returns them). Types from bpf/codec_conns.o (make bpf).
import { compileCodec } from '../../lib/codec/index.js';
import { bpftoolTypes } from '../../test/helpers/bpftool-btf.js';
import { measure, type BenchCase } from '../lib/case.js';

const N = 100000;
let sink = 0;

function decodeCase(struct: string, id: string): BenchCase {
  return {
    id,
    title: `typed decode: struct ${struct} × 100k, per value`,
    run() {
      const types = bpftoolTypes('bpf/codec_conns.o');
      const c = compileCodec(types, types.byName('STRUCT', struct));
      const buf = new Uint8Array(N * c.size);
      for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
      return measure((ops) => {
        for (let i = 0; i < ops; i++) {
          const v = c.decodeAt(buf, (i % N) * c.size) as Record<string, unknown>;
          sink += v ? 1 : 0;
        }
      }, N);
    },
  };
}

export const cases: BenchCase[] = [
  decodeCase('conn_key', 'codec_decode_conn_key'),
  decodeCase('conn_val', 'codec_decode_conn_val'),
  decodeCase('kitchen', 'codec_decode_kitchen'),
];
void sink;
