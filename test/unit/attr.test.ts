// The declared bpf_attr and info layouts against the C compiler's view of the kernel UAPI header:
// every field Debian's linux/bpf.h (6.1) has is checked with offsetof/sizeof; fields added since
// are checked against the offsets of the upstream header, listed here once.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ATTR_LAYOUTS } from '../../lib/syscall/attr.js';
import { BTF_INFO, LINK_INFO, MAP_INFO, PROG_INFO } from '../../lib/syscall/info.js';
import { readStruct, struct, writeStruct, type Layout } from '../../lib/syscall/layout.js';

// layout → how its fields are spelled in C
const C_BASE: Record<string, { type: string; prefix: string }> = {
  'bpf_attr.map_create': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.map_elem': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.batch': { type: 'union bpf_attr', prefix: 'batch.' },
  'bpf_attr.prog_load': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.obj': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.prog_attach': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.test': { type: 'union bpf_attr', prefix: 'test.' },
  'bpf_attr.get_id': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.info': { type: 'union bpf_attr', prefix: 'info.' },
  'bpf_attr.query': { type: 'union bpf_attr', prefix: 'query.' },
  'bpf_attr.btf_load': { type: 'union bpf_attr', prefix: '' },
  'bpf_attr.link_create': { type: 'union bpf_attr', prefix: 'link_create.' },
  'bpf_attr.link_update': { type: 'union bpf_attr', prefix: 'link_update.' },
  'bpf_attr.link_detach': { type: 'union bpf_attr', prefix: 'link_detach.' },
  'bpf_attr.enable_stats': { type: 'union bpf_attr', prefix: 'enable_stats.' },
  'bpf_attr.prog_bind_map': { type: 'union bpf_attr', prefix: 'prog_bind_map.' },
  'bpf_attr.raw_tracepoint': { type: 'union bpf_attr', prefix: 'raw_tracepoint.' },
  'bpf_attr.iter_create': { type: 'union bpf_attr', prefix: 'iter_create.' },
  bpf_iter_link_info: { type: 'union bpf_iter_link_info', prefix: '' },
  bpf_prog_info: { type: 'struct bpf_prog_info', prefix: '' },
  bpf_map_info: { type: 'struct bpf_map_info', prefix: '' },
  bpf_btf_info: { type: 'struct bpf_btf_info', prefix: '' },
  bpf_link_info: { type: 'struct bpf_link_info', prefix: '' },
};

// our flat names for union members → their C path
const VARIANTS = ['kprobe_multi', 'uprobe_multi', 'perf_event', 'tracing', 'netfilter', 'cgroup', 'netns', 'xdp', 'tcx', 'netkit', 'struct_ops'];
function cPath(layout: string, field: string): string | undefined {
  if (layout === 'bpf_attr.get_id' && field === 'id') return 'prog_id';
  if (layout === 'bpf_attr.link_create') {
    if (field === 'relative_fd' || field === 'relative_id' || field === 'expected_revision') return `tcx.${field}`;
    if (field === 'iter_info' || field === 'iter_info_len' || field === 'target_btf_id') return field;
  }
  if (layout === 'bpf_link_info' && (field === 'cgroup_id' || field === 'netns_ino')) return `${field.split('_')[0]}.${field}`;
  if (layout === 'bpf_iter_link_info') {
    const [v, rest] = [field.slice(0, field.indexOf('_')), field.slice(field.indexOf('_') + 1)];
    return v === 'task' || field === 'cgroup_order' ? `${v}.${rest}` : `${v}.${field}`;
  }
  if (layout === 'bpf_prog_info' && field === 'gpl_compatible') return undefined; // a bitfield: no offsetof
  if (layout.startsWith('bpf_attr.link_create') || layout === 'bpf_link_info') {
    const v = VARIANTS.find((p) => field.startsWith(`${p}_`));
    if (v) return `${v}.${field.slice(v.length + 1)}`;
  }
  return field;
}

// fields newer than Debian's 6.1 header, with their offsets in upstream include/uapi/linux/bpf.h
const UPSTREAM: Record<string, Record<string, number>> = {
  'bpf_attr.map_create': { value_type_btf_obj_fd: 72, map_token_fd: 76, excl_prog_hash: 80, excl_prog_hash_size: 88 },
  'bpf_attr.prog_load': { log_true_size: 140, prog_token_fd: 144, fd_array_cnt: 148, signature: 152, signature_size: 160, keyring_id: 164 },
  'bpf_attr.obj': { path_fd: 16 },
  'bpf_attr.prog_attach': { target_ifindex: 0, relative_fd: 20, relative_id: 20, expected_revision: 24 },
  'bpf_attr.get_id': { fd_by_id_token_fd: 12 },
  'bpf_attr.query': { target_ifindex: 0, count: 24, link_ids: 40, link_attach_flags: 48, revision: 56 },
  'bpf_attr.btf_load': { btf_log_true_size: 28, btf_flags: 32, btf_token_fd: 36 },
  'bpf_attr.link_create': {
    map_fd: 0, target_ifindex: 4, relative_fd: 16, relative_id: 16, expected_revision: 24,
    netfilter_pf: 16, netfilter_hooknum: 20, netfilter_priority: 24, netfilter_flags: 28,
    uprobe_multi_path: 16, uprobe_multi_offsets: 24, uprobe_multi_ref_ctr_offsets: 32, uprobe_multi_cookies: 40,
    uprobe_multi_cnt: 48, uprobe_multi_flags: 52, uprobe_multi_pid: 56, uprobe_multi_path_fd: 60,
    tracing_target_btf_id: 16, tracing_cookie: 24,
  },
  'bpf_attr.link_update': { new_map_fd: 4, old_map_fd: 12 },
  'bpf_attr.raw_tracepoint': { cookie: 16 },
  bpf_map_info: { btf_vmlinux_id: 76, hash: 88, hash_size: 96 },
  bpf_link_info: {
    netfilter_pf: 16, netfilter_hooknum: 20, netfilter_priority: 24, netfilter_flags: 28,
    tcx_ifindex: 16, tcx_attach_type: 20, struct_ops_map_id: 16, netkit_ifindex: 16, netkit_attach_type: 20, perf_event_type: 16,
  },
  bpf_prog_info: { gpl_compatible: 84 },
};

const ALL: Layout[] = [...Object.values(ATTR_LAYOUTS), PROG_INFO, MAP_INFO, BTF_INFO, LINK_INFO];

describe('bpf_attr and info layouts', () => {
  it('places the hot-path fields where linux/bpf.h does', () => {
    // the element attr is read on every lookup: its shape is fixed ABI
    expect(ATTR_LAYOUTS.MAP_ELEM_ATTR.off).to.include({ map_fd: 0, key: 8, value: 16, next_key: 16, flags: 24 });
    expect(ATTR_LAYOUTS.MAP_ELEM_ATTR.size).to.equal(32);
    expect(ATTR_LAYOUTS.MAP_BATCH_ATTR.off).to.include({ count: 32, map_fd: 36, elem_flags: 40, flags: 48 });
  });

  it('matches the newer upstream fields this machine\'s header lacks', () => {
    for (const l of ALL) {
      for (const [f, off] of Object.entries(UPSTREAM[l.name] ?? {})) {
        expect((l.off as Record<string, number>)[f], `${l.name}.${f}`).to.equal(off);
      }
    }
  });

  const gcc = ['cc', 'gcc'].find((c) => spawnSync(c, ['--version']).status === 0);
  const haveHeader = existsSync('/usr/include/linux/bpf.h');
  (gcc && haveHeader ? it : it.skip)('matches offsetof() of every field in the installed linux/bpf.h', function () {
    this.timeout(60000);
    const checks: Array<{ layout: string; field: string; ours: number; expr: string }> = [];
    for (const l of ALL) {
      const base = C_BASE[l.name];
      expect(base, `C spelling of ${l.name}`).to.not.equal(undefined);
      for (const [f, field] of Object.entries(l.fields)) {
        if (UPSTREAM[l.name]?.[f] !== undefined) continue;
        const p = cPath(l.name, f);
        if (!p) continue;
        checks.push({ layout: l.name, field: f, ours: field.offset, expr: `offsetof(${base.type}, ${base.prefix}${p})` });
      }
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-attr-'));
    try {
      const src = ['#include <stdio.h>', '#include <stddef.h>', '#include <linux/bpf.h>', 'int main(void) {',
        ...checks.map((c) => `  printf("%zu\\n", (size_t)${c.expr});`),
        '  printf("%zu %zu %zu %zu\\n", sizeof(struct bpf_prog_info), sizeof(struct bpf_btf_info), offsetof(struct bpf_map_info, map_extra) + 8, sizeof(union bpf_attr));',
        '  return 0; }'].join('\n');
      writeFileSync(path.join(dir, 'o.c'), src);
      execFileSync(gcc!, ['-o', path.join(dir, 'o'), path.join(dir, 'o.c')], { stdio: 'pipe' });
      const out = execFileSync(path.join(dir, 'o'), { encoding: 'utf8' }).trim().split('\n');
      checks.forEach((c, i) => expect(c.ours, `${c.layout}.${c.field} (${c.expr})`).to.equal(Number(out[i])));
      const [progInfo, btfInfo] = out[checks.length].split(' ').map(Number);
      expect(PROG_INFO.size).to.equal(progInfo);
      expect(BTF_INFO.size).to.equal(btfInfo);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('struct(), writeStruct(), readStruct()', () => {
  // a made-up struct exercising padding, unions and char arrays
  const L = structFor();
  function structFor() {
    return struct('demo', [['a', 'u32'], ['b', 'u64'], ['c', { char: 4 }], ['d', 's32'], ['alias', 'u32', 0], [null, 'u32']]);
  }

  it('aligns u64 to 8, places union members at their offset, rounds the size to 8', () => {
    expect(L.off).to.deep.equal({ a: 0, b: 8, c: 16, d: 20, alias: 0 });
    expect(L.size).to.equal(32);
  });

  it('writes and reads back every kind of field, zeroing the rest', () => {
    const buf = new Uint8Array(40).fill(0xff);
    const v = new DataView(buf.buffer);
    writeStruct(v, 4, L, { a: 7, b: 0x1_0000_0001n, c: 'toolong', d: -5 });
    expect(buf.subarray(0, 4)).to.deep.equal(new Uint8Array([0xff, 0xff, 0xff, 0xff])); // before base: untouched
    expect(buf.subarray(36)).to.deep.equal(new Uint8Array([0xff, 0xff, 0xff, 0xff])); // after the struct: untouched
    expect(readStruct(v, 4, L)).to.deep.equal({ a: 7, b: 0x1_0000_0001n, c: 'too', d: -5, alias: 7 });
    expect(() => writeStruct(v, 0, L, { nope: 1 } as never)).to.throw(/no field nope/);
  });
});
