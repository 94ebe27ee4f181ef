// perf_event_open(2) layouts (include/uapi/linux/perf_event.h), declared once for the perf reader.
import { struct } from '../syscall/layout.js';

/** struct perf_event_attr up to PERF_ATTR_SIZE_VER5 (112 bytes: every kernel since 4.1 takes it). */
export const PERF_EVENT_ATTR = struct('perf_event_attr', [
  ['type', 'u32'], ['size', 'u32'], ['config', 'u64'], ['sample_period', 'u64'], ['sample_type', 'u64'],
  ['read_format', 'u64'], ['flags', 'u64'], ['wakeup_events', 'u32'], ['bp_type', 'u32'], ['config1', 'u64'],
  ['config2', 'u64'], ['branch_sample_type', 'u64'], ['sample_regs_user', 'u64'], ['sample_stack_user', 'u32'],
  ['clockid', 's32'], ['sample_regs_intr', 'u64'], ['aux_watermark', 'u32'], [null, 'u32'],
]);

export const PERF_TYPE_SOFTWARE = 1;
export const PERF_COUNT_SW_BPF_OUTPUT = 10;
export const PERF_SAMPLE_RAW = 1 << 10;
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;
/** perf_event_attr.flags bit `watermark`: the u32 after flags is wakeup_watermark (bytes), not wakeup_events */
export const PERF_ATTR_FLAG_WATERMARK = 1n << 14n;
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;

/** struct perf_event_mmap_page: the ring's control words (offsets in the first page). */
export const MMAP_PAGE = { data_head: 1024, data_tail: 1032, data_offset: 1040, data_size: 1048 } as const;

/** struct perf_event_header: u32 type, u16 misc, u16 size */
export const PERF_RECORD = { LOST: 2, SAMPLE: 9 } as const;

/** Tracepoint events (config: the id from tracefs events/<category>/<name>/id), for BPF attachment. */
export const PERF_TYPE_TRACEPOINT = 2;
/** _IOW('$', 8, __u32): run a BPF program (fd as the argument) on the event's hits (before links existed) */
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;
