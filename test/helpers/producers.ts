// Hand-assembled BPF programs that emit known events, for the reader tests and benches (no loader
// needed). Each is the instruction sequence of a bpf/*.c file of the same behaviour.
import { progLoad, BPF_PROG_TYPE, type Fd } from '../../lib/syscall/index.js';

const le32 = (n: number) => [...new Uint8Array(new Int32Array([n]).buffer)];
const le16 = (n: number) => [...new Uint8Array(new Int16Array([n]).buffer)];
export const insn = (op: number, dst: number, src: number, off: number, imm: number) => [op, (src << 4) | dst, ...le16(off), ...le32(imm)];
const ldMap = (reg: number, fd: number) => [...insn(0x18, reg, 1, 0, fd), ...insn(0, 0, 0, 0, 0)];

function load(name: string, code: number[]): Fd {
  return progLoad({ progType: BPF_PROG_TYPE.SCHED_CLS, insns: new Uint8Array(code), license: 'GPL', name }).fd;
}

/**
 * bpf/ringbuf_events.c: one 16-byte record [skb->len, ~skb->len] (u64s) per run through
 * bpf_ringbuf_output; when skb->len % 4 == 0 it reserves a record and discards it instead.
 */
export function ringbufProducer(mapFd: number): Fd {
  return load('rb_events', [
    ...insn(0x61, 6, 1, 0, 0), // r6 = skb->len
    ...insn(0x7b, 10, 6, -16, 0), // *(u64 *)(r10 - 16) = r6
    ...insn(0xbf, 7, 6, 0, 0), ...insn(0xa7, 7, 0, 0, -1), // r7 = ~r6
    ...insn(0x7b, 10, 7, -8, 0), // *(u64 *)(r10 - 8) = r7
    ...insn(0xbf, 2, 6, 0, 0), ...insn(0x57, 2, 0, 0, 3), // r2 = r6 & 3
    ...insn(0x15, 2, 0, 9, 0), // if r2 == 0 goto discard
    ...ldMap(1, mapFd), ...insn(0xbf, 2, 10, 0, 0), ...insn(0x07, 2, 0, 0, -16), ...insn(0xb7, 3, 0, 0, 16), ...insn(0xb7, 4, 0, 0, 0),
    ...insn(0x85, 0, 0, 0, 130), // bpf_ringbuf_output(map, r10 - 16, 16, 0)
    ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
    // discard: r0 = bpf_ringbuf_reserve(map, 16, 0); if r0: bpf_ringbuf_discard(r0, 0)
    ...ldMap(1, mapFd), ...insn(0xb7, 2, 0, 0, 16), ...insn(0xb7, 3, 0, 0, 0), ...insn(0x85, 0, 0, 0, 131),
    ...insn(0x15, 0, 0, 3, 0), ...insn(0xbf, 1, 0, 0, 0), ...insn(0xb7, 2, 0, 0, 0), ...insn(0x85, 0, 0, 0, 133),
    ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
  ]);
}

/** bpf/perf_events.c: bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, [len, ~len], 16) per run. */
export function perfProducer(mapFd: number): Fd {
  return load('perf_events', [
    ...insn(0xbf, 6, 1, 0, 0), ...insn(0x61, 7, 1, 0, 0), // r6 = ctx; r7 = skb->len
    ...insn(0x7b, 10, 7, -16, 0), ...insn(0xbf, 8, 7, 0, 0), ...insn(0xa7, 8, 0, 0, -1), ...insn(0x7b, 10, 8, -8, 0),
    ...insn(0xbf, 1, 6, 0, 0), ...ldMap(2, mapFd),
    ...insn(0xb4, 3, 0, 0, -1), // w3 = BPF_F_CURRENT_CPU (32-bit move: the upper flag bits stay 0)
    ...insn(0xbf, 4, 10, 0, 0), ...insn(0x07, 4, 0, 0, -16), ...insn(0xb7, 5, 0, 0, 16),
    ...insn(0x85, 0, 0, 0, 25), // bpf_perf_event_output
    ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
  ]);
}

/** bpf_trace_printk("<tag>", 12): tag is up to 11 characters (NUL-terminated in 12 bytes). */
export function printkProducer(tag: string): Fd {
  const b = Buffer.alloc(12);
  b.write(tag.slice(0, 11));
  return load('tp_print', [
    ...insn(0x62, 10, 0, -12, b.readInt32LE(0)), ...insn(0x62, 10, 0, -8, b.readInt32LE(4)), ...insn(0x62, 10, 0, -4, b.readInt32LE(8)),
    ...insn(0xbf, 1, 10, 0, 0), ...insn(0x07, 1, 0, 0, -12), ...insn(0xb7, 2, 0, 0, 12),
    ...insn(0x85, 0, 0, 0, 6), // bpf_trace_printk
    ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
  ]);
}
