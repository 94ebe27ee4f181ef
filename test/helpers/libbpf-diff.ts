// Comparing tsbpf's loads with libbpf's: bpftool (Debian's libbpf 1.1) loads the same object into
// a private bpffs, and both programs are read back from the kernel (translated code, tag, maps).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The builds of bpf/*.c that libbpf 1.1 can load (`make bpf bpf-variants`). */
export const LOADABLE_BUILDS = [
  { name: 'clang', dir: 'bpf' },
  { name: 'clang-16', dir: 'bpf/build/clang16' },
  { name: 'clang-19', dir: 'bpf/build/clang19' },
  { name: 'clang -mcpu=v3', dir: 'bpf/build/v3' },
];

/** bpftool -j … parsed. */
export const bpftool = (...args: string[]) => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));

/** A program's translated code with map ids masked (they differ between the two loads). */
export const xlatedCode = (id: number) => execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(id)], { encoding: 'utf8' })
  .replace(/map\[id:\d+\]/g, 'map[MAP]');

/** Load `file` with bpftool prog loadall under `bpffsDir` and return program `name`'s `bpftool prog show`. */
export function libbpfLoad(file: string, bpffsDir: string, name: string): { id: number; tag: string; map_ids?: number[] } {
  const pinDir = path.join(bpffsDir, 'progs');
  execFileSync('bpftool', ['prog', 'loadall', file, pinDir], { stdio: 'pipe' });
  return bpftool('prog', 'show', 'pinned', path.join(pinDir, name));
}
