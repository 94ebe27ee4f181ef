// perf_event_open(2) with the project's one perf_event_attr layout: for the perf buffer reader's
// BPF output events, and for the tracepoint, uprobe and kprobe events programs are attached to.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { scratch } from '../syscall/memory.js';
import { writeStruct, type FieldValue } from '../syscall/layout.js';
import { PERF_EVENT_ATTR, PERF_FLAG_FD_CLOEXEC } from './attr.js';

type AttrField = Exclude<keyof typeof PERF_EVENT_ATTR.fields, 'size'>;

export interface PerfEventOpen {
  /** perf_event_attr fields (size is filled in) */
  attr: Partial<Record<AttrField, FieldValue>>;
  /** a C string for config1 to point at (the uprobe PMU's path, the kprobe PMU's function name) */
  config1String?: string;
  /** -1: every process (then cpu must be one); or one process */
  pid: number;
  /** -1: any CPU (with a pid); or one CPU */
  cpu: number;
}

/**
 * A new perf event (close-on-exec), owned. A refusal is BpfError('perf_event_open', errno, detail);
 * `label` names the fd in its own messages (default `perf event <detail>`).
 */
export function perfEventOpen(o: PerfEventOpen, detail: string, label = `perf event ${detail}`): Fd {
  const s = scratch();
  const attr = s.alloc(PERF_EVENT_ATTR.size);
  const config1 = o.config1String !== undefined ? s.put(o.config1String) : o.attr.config1;
  writeStruct(attr.view, 0, PERF_EVENT_ATTR, { ...o.attr, size: PERF_EVENT_ATTR.size, config1 });
  const r = ffi().syscall6(SYS.perf_event_open, attr.address, o.pid, o.cpu, -1, PERF_FLAG_FD_CLOEXEC, 0);
  if (r < 0) throw new BpfError('perf_event_open', -r, detail);
  return new Fd(r, label);
}
