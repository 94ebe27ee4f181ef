// Ring buffer consumption against libbpf (bench/c/ringbuf.c): the same SCHED_CLS producer run with
// BPF_PROG_TEST_RUN (repeat 4096: one record per run), drained after each batch; ns per event
// (produced + consumed). C uses ring_buffer__poll(rb, 0), TS RingBuffer.consume(cb).
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun } from '../../lib/syscall/index.js';
import { RingBuffer } from '../../lib/ringbuf/index.js';
import { ringbufProducer } from '../../test/helpers/producers.js';
import { measure, type BenchCase } from '../lib/case.js';

const BATCH = 4096;
let sink = 0;

function ringCase(id: string, title: string, raw: boolean): BenchCase {
  return {
    id,
    title,
    ref: 'ringbuf_events',
    // events/s ≥ 0.8× C  ⇔  ns per event ≤ 1.25× C
    targets: [{ ref: 'ringbuf_events', max: 1.25, label: '≥ 0.8× C events/s' }],
    run() {
      const map = BpfMap.create({ type: 'ringbuf', maxEntries: 256 * 1024, name: 'rb_bench' });
      const prog = ringbufProducer(map.fd.value);
      const rb = new RingBuffer(map);
      const pkt = new Uint8Array(65); // len % 4 != 0: every run delivers a record
      let received = 0;
      // the sum stays a small integer: past 2^30 each `+=` would box a double (an allocation per
      // record that C's uint64_t sink does not pay)
      const onRecord = (rec: Uint8Array) => { sink = (sink + rec[0] + rec.length) & 0xfffffff; received++; };
      const onRaw = (data: Uint8Array, offset: number, length: number) => { sink = (sink + data[offset] + length) & 0xfffffff; received++; };
      try {
        return measure((ops) => {
          const want = received + ops;
          while (received < want) {
            progTestRun(prog.value, { data: pkt, repeat: BATCH });
            if (raw) rb.consumeRaw(onRaw); else rb.consume(onRecord);
          }
        }, 200000);
      } finally {
        rb.close();
        prog.close();
        map.close();
      }
    },
  };
}

export const cases: BenchCase[] = [
  ringCase('ringbuf_events', 'ring buffer: BPF producer (test-run loop) → consume(cb), a view per record', false),
  ringCase('ringbuf_events_raw', 'ring buffer: same → consumeRaw(cb) (offset/length, no view)', true),
];
void sink;
