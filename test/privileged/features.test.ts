// probe() against the kernel: it agrees with bpftool's own probe where both know the type, what it
// says is available really works, and the CLI prints it (text and JSON).
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { probe } from '../../lib/features/index.js';
import { BpfMap } from '../../lib/map/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const openFds = () => readdirSync('/proc/self/fd').length;

describe('feature probes', () => {
  before(function () { requirePrivileged(this); });

  it('probes every kind, leaves no fd open, and caches', () => {
    const before = openFds();
    const f = probe({ refresh: true });
    expect(openFds()).to.be.at.most(before);
    expect(f.mapTypes.hash).to.equal(true);
    expect(f.progTypes.sched_cls).to.equal(true);
    expect(f.btfKinds.int).to.equal(true);
    expect(probe()).to.equal(f);
  });

  const bpftool = spawnSync('bpftool', ['version']).status === 0;
  (bpftool ? it : it.skip)('agrees with `bpftool feature probe` on program and map types', () => {
    const f = probe();
    const b = JSON.parse(execFileSync('bpftool', ['feature', 'probe', 'kernel', '-j'], { encoding: 'utf8' })) as Record<string, Record<string, boolean>>;
    let compared = 0;
    for (const [key, v] of Object.entries(b.program_types)) {
      const name = key.replace(/^have_/, '').replace(/_prog_type$/, '');
      if (name in f.progTypes) { expect(f.progTypes[name], `program type ${name}`).to.equal(v); compared++; }
    }
    for (const [key, v] of Object.entries(b.map_types)) {
      const name = key.replace(/^have_/, '').replace(/_map_type$/, '');
      if (name in f.mapTypes) { expect(f.mapTypes[name], `map type ${name}`).to.equal(v); compared++; }
    }
    expect(compared).to.be.greaterThan(50);
  });

  it('says a map type is available only when BpfMap.create of it works', () => {
    const f = probe();
    for (const type of ['hash', 'array', 'lru_hash', 'percpu_array', 'queue'] as const) {
      const attempt = () => BpfMap.create({ type, keySize: type === 'queue' ? 0 : 4, valueSize: 4, maxEntries: 4 }).close();
      if (f.mapTypes[type]) expect(attempt).to.not.throw();
      else expect(attempt).to.throw();
    }
  });

  it('prints `tsbpf feature` and `tsbpf feature -j`', () => {
    const text = execFileSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'feature'], { cwd: root, encoding: 'utf8' });
    expect(text).to.match(/eBPF map_type hash is available/).and.match(/BTF kind enum64 is (NOT )?available/).and.match(/attach_type tcx_ingress/);
    const json = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'feature', '-j'], { cwd: root, encoding: 'utf8' }));
    expect(json.mapTypes.hash).to.equal(true);
    expect(json.attachTypes).to.have.property('tcx_ingress');
  });
});
