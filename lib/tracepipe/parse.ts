// One line of trace_pipe, as the kernel's default trace output writes it:
//   "  <task>-<pid>  [<cpu>] <flags> <seconds>.<micros>: bpf_trace_printk: <message>"
// The tgid column "(  123)" (options/record-tgid) and the flags column (irqs-off, need-resched,
// hardirq/softirq, preempt depth) may be absent. Tasks may contain spaces and dashes: the pid is
// the last "-<digits>" before the CPU column.

export interface TraceLine {
  task: string;
  pid: number;
  /** from the "(tgid)" column when the kernel prints it */
  tgid?: number;
  cpu: number;
  flags: string;
  /** seconds since boot (trace clock), microsecond resolution */
  timestamp: number;
  /** 'bpf_trace_printk' for bpf_printk output, else the event name */
  event: string;
  /**
   * The text after the event name. From TracePipe a message printed with newlines in it keeps them
   * (its later lines carry no header); the newlines that end it are dropped.
   */
  message: string;
  /** the line(s) as read */
  raw: string;
}

const LINE = /^\s*(.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S+)\s+)?(\d+\.\d+):\s+([\w.:-]+?):\s?(.*)$/;

/** Parse one line; undefined for lines that are not trace records (e.g. "CPU:1 [LOST 3 EVENTS]"). */
export function parseTraceLine(raw: string): TraceLine | undefined {
  const m = LINE.exec(raw);
  if (!m) return undefined;
  return {
    task: m[1],
    pid: Number(m[2]),
    tgid: m[3] !== undefined && /^\d+$/.test(m[3]) ? Number(m[3]) : undefined,
    cpu: Number(m[4]),
    flags: m[5] ?? '',
    timestamp: Number(m[6]),
    event: m[7],
    message: m[8],
    raw,
  };
}
