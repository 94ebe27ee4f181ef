// `tsbpf prog tracelog [-j]`: bpftool's prog tracelog — the kernel's trace_pipe (bpf_printk output and
// every other trace line) printed as it comes until Ctrl-C (SIGINT, SIGTERM or SIGHUP), through
// lib/tracepipe, which finds tracefs or mounts it. Under -j each line is a string of one JSON array
// that closes at the signal, as bpftool's does. Reading trace_pipe consumes it: one reader at a time.
import type { Command } from 'commander';
import { TracePipe } from '../tracepipe/reader.js';
import { JsonWriter, jsonOptions, type JsonOpts } from './json-writer.js';
import { progCommand } from './prog-load.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function progTracelog(o: JsonOpts, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const pipe = new TracePipe({ event: null });
  const stop = () => pipe.close();
  for (const s of SIGNALS) process.once(s, stop);
  const w = o.json || o.pretty ? new JsonWriter(o.pretty) : undefined;
  try {
    if (w) write(w.startArray().take());
    for await (const record of pipe) {
      // a message with newlines comes as one record; bpftool reads, and prints, line by line
      for (const line of record.raw.split('\n')) write(w ? w.string(`${line}\n`).take() : `${line}\n`);
    }
    if (w) write(w.endArray().finish());
  } finally {
    for (const s of SIGNALS) process.removeListener(s, stop);
    pipe.close();
  }
}

export function registerProgTracelog(program: Command): void {
  jsonOptions(progCommand(program).command('tracelog'))
    .description('print the kernel trace pipe (bpf_printk output) until Ctrl-C (bpftool prog tracelog)')
    .action((o: JsonOpts) => progTracelog(o));
}
