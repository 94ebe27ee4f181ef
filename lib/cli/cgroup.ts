// `tsbpf cgroup show|attach|detach`, in bpftool's shape and output:
//   tsbpf cgroup show CGROUP [effective] [-j]              programs at every cgroup hook of CGROUP
//   tsbpf cgroup attach CGROUP ATTACH_TYPE PROG [multi|override]
//   tsbpf cgroup detach CGROUP ATTACH_TYPE PROG
// PROG is `id N` or `pinned PATH`; ATTACH_TYPE a kernel name (cgroup_inet_egress) or bpftool's short
// one (egress, connect4, sock_ops…). Like bpftool, attach uses PROG_ATTACH (it stays after the command
// exits) with no flags unless multi/override is given: unlike attachCgroup's default, no flags means
// no other program may join at that hook.
import type { Command } from 'commander';
import { BpfProgram } from '../program/program.js';
import { progDetach } from '../syscall/prog.js';
import { BPF_ATTACH_FLAG, attachTypeName } from '../syscall/types.js';
import { attachCgroup, openCgroup, queryCgroup, CGROUP_ATTACH_TYPES, type CgroupAttachFlags } from '../attach/cgroup.js';
import { resolveAttachType } from '../attach/attach-type.js';
import { numberArg, progName } from './bpf-objects.js';
import { jsonOptions, jsonOrText, quietUnderJson, type JsonOpts } from './json-writer.js';

export interface CgroupProgRow {
  id: number;
  attach_type: string;
  /** absent with effective (bpftool prints no flags column then) */
  attach_flags?: string;
  name: string;
  attach_btf_name: string;
  attach_btf_obj_id: number;
  attach_btf_id: number;
}

function flagsName(f: number): string {
  if (f === BPF_ATTACH_FLAG.ALLOW_MULTI) return 'multi';
  if (f === BPF_ATTACH_FLAG.ALLOW_OVERRIDE) return 'override';
  return f === 0 ? '' : 'unknown';
}

/** The programs at each cgroup hook of `cgroup` (bpftool cgroup show). */
export function cgroupShow(cgroup: string, effective = false): CgroupProgRow[] {
  const rows: CgroupProgRow[] = [];
  openCgroup('cgroup show', cgroup).fd.close(); // a missing or non-cgroup path is a clear error up front
  for (const type of CGROUP_ATTACH_TYPES) {
    let q;
    try {
      q = queryCgroup(cgroup, type, { effective });
    } catch {
      continue; // a hook this kernel does not have
    }
    for (const id of q.progIds) {
      rows.push({
        id, attach_type: attachTypeName(type), ...(effective ? {} : { attach_flags: flagsName(q.attachFlags) }),
        name: progName(id), attach_btf_name: '', attach_btf_obj_id: 0, attach_btf_id: 0,
      });
    }
  }
  return rows;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

export function formatCgroupShow(rows: readonly CgroupProgRow[], effective = false): string {
  if (rows.length === 0) return '';
  const head = `${pad('ID', 8)} ${pad('AttachType', 15)} ${effective ? '' : `${pad('AttachFlags', 15)} `}${pad('Name', 15)}\n`;
  return head + rows.map((r) => `${pad(r.id, 8)} ${pad(r.attach_type, 15)}${effective ? '' : ` ${pad(r.attach_flags ?? '', 15)}`} ${pad(r.name, 15)} ${pad(r.attach_btf_name, 15)}\n`).join('');
}

function program(words: string[]): BpfProgram {
  const [kw, v] = words;
  if (kw === 'id') return BpfProgram.fromId(numberArg(v, 'id'));
  if (kw === 'pinned' && v) return BpfProgram.fromPin(v);
  throw new Error(`a program is required: id N or pinned PATH (got ${words.slice(0, 2).join(' ') || 'nothing'})`);
}

export function cgroupAttach(cgroup: string, type: string, words: string[]): string {
  const prog = program(words);
  try {
    const rest = words.slice(2);
    if (rest.length > 1 || (rest[0] !== undefined && rest[0] !== 'multi' && rest[0] !== 'override')) throw new Error(`unexpected "${rest.join(' ')}" (multi or override)`);
    const attachFlags: CgroupAttachFlags = (rest[0] as CgroupAttachFlags | undefined) ?? 'exclusive';
    const a = attachCgroup({ program: prog, cgroup, attachType: type, mode: 'attach', attachFlags });
    a.close(); // PROG_ATTACH stays after the handle goes
    return `attached ${a.info.programName} (id ${a.info.programId}) to ${cgroup} ${a.info.attachTypeName}${rest[0] ? ` ${rest[0]}` : ''}\n`;
  } finally {
    prog.close();
  }
}

export function cgroupDetach(cgroup: string, type: string, words: string[]): string {
  const t = resolveAttachType('cgroup detach', type);
  const prog = program(words);
  const cg = openCgroup('cgroup detach', cgroup);
  try {
    if (words.length > 2) throw new Error(`unexpected "${words.slice(2).join(' ')}"`);
    progDetach({ targetFd: cg.fd.value, progFd: prog.fd.value, attachType: t });
    return `detached ${prog.name} from ${cgroup} ${attachTypeName(t)}\n`;
  } finally {
    cg.fd.close();
    prog.close();
  }
}

export function registerCgroup(program: Command): void {
  const cg = program.command('cgroup').description('cgroup attachments (bpftool cgroup)');
  jsonOptions(cg.command('show'))
    .alias('list')
    .argument('<cgroup>', 'a cgroup v2 directory')
    .argument('[effective]', 'the word "effective": also what the cgroup inherits')
    .description('list the programs at every hook of a cgroup')
    .action((path: string, eff: string | undefined, opts: JsonOpts) => {
      if (eff !== undefined && eff !== 'effective') throw new Error(`unexpected "${eff}" (effective)`);
      const rows = cgroupShow(path, eff === 'effective');
      process.stdout.write(jsonOrText(opts, rows, () => formatCgroupShow(rows, eff === 'effective')));
    });
  jsonOptions(cg.command('attach'), 'print JSON (null, as bpftool)')
    .argument('<cgroup>', 'a cgroup v2 directory')
    .argument('<attach_type>', "bpftool's name of the hook (ingress, egress, sock_ops, connect4, …) or the kernel's (cgroup_inet_ingress, …)")
    .argument('<prog...>', 'id N | pinned PATH, then multi or override')
    .description('attach a program to a cgroup hook (PROG_ATTACH: stays after the command exits)')
    .action((path: string, type: string, words: string[], opts: JsonOpts) => { quietUnderJson(cgroupAttach(path, type, words), opts); });
  jsonOptions(cg.command('detach'), 'print JSON (null, as bpftool)')
    .argument('<cgroup>', 'a cgroup v2 directory')
    .argument('<attach_type>', "bpftool's name of the hook (ingress, egress, sock_ops, connect4, …) or the kernel's (cgroup_inet_ingress, …)")
    .argument('<prog...>', 'id N | pinned PATH')
    .description('detach a program attached with PROG_ATTACH from a cgroup hook')
    .action((path: string, type: string, words: string[], opts: JsonOpts) => { quietUnderJson(cgroupDetach(path, type, words), opts); });
}
