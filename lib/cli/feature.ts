// `tsbpf feature [-j]`: what the running kernel supports, in bpftool's "feature probe" wording.
import type { Command } from 'commander';
import { probe, type Features } from '../features/index.js';
import { jsonOptions, jsonOrText, type JsonOpts } from './json-writer.js';

function avail(ok: boolean): string {
  return ok ? 'is available' : 'is NOT available';
}

export function formatFeatures(f: Features): string {
  const out: string[] = [];
  out.push('Scanning system configuration...', `Kernel release is ${f.kernel}`, '');
  out.push('Scanning eBPF program types...');
  for (const [k, v] of Object.entries(f.progTypes)) out.push(`eBPF program_type ${k} ${avail(v)}`);
  out.push('', 'Scanning eBPF map types...');
  for (const [k, v] of Object.entries(f.mapTypes)) out.push(`eBPF map_type ${k} ${avail(v)}`);
  out.push('', 'Scanning BPF link attach types...');
  for (const [k, v] of Object.entries(f.attachTypes)) out.push(`BPF link attach_type ${k} ${avail(v)}`);
  out.push('', 'Scanning BTF kinds...');
  for (const [k, v] of Object.entries(f.btfKinds)) out.push(`BTF kind ${k} ${avail(v)}`);
  out.push('', 'Scanning misc features...');
  const misc: Record<keyof Features['misc'], string> = {
    mmapableMaps: 'memory-mappable array maps (BPF_F_MMAPABLE)',
    batchOps: 'batch map operations (MAP_LOOKUP_BATCH…)',
    logTrueSize: 'verifier log_true_size',
    bpfCookie: 'bpf_cookie (bpf_get_attach_cookie)',
    objectNames: 'program and map names',
  };
  for (const [k, text] of Object.entries(misc)) out.push(`${text} ${avail(f.misc[k as keyof Features['misc']])}`);
  return `${out.join('\n')}\n`;
}

export function registerFeature(program: Command): void {
  jsonOptions(program.command('feature'), 'print JSON (tsbpf\'s own shape, not bpftool\'s)')
    .description('probe the running kernel for supported program, map, attach types and BTF kinds (needs root)')
    .action((opts: JsonOpts) => {
      const f = probe();
      process.stdout.write(jsonOrText(opts, f, () => formatFeatures(f)));
    });
}
