// The kernel's view of BPF links for tests that check what they made is there, or gone: by id, and
// every link running one of a test's programs (other processes' links are not the test's to count).
import { BpfError } from '../../lib/syscall/errors.js';
import { getFdById, linkInfo } from '../../lib/syscall/obj.js';
import { liveObjects } from '../../lib/cli/bpf-objects.js';

/** Is link `id` still in the kernel? */
export function linkExists(id: number): boolean {
  try {
    getFdById('link', id).close();
    return true;
  } catch (e) {
    if (e instanceof BpfError && e.errno === 'ENOENT') return false;
    throw e;
  }
}

/** The ids of every link whose program is one of `progIds` (links gone while listed are skipped). */
export function linksOf(progIds: readonly number[]): number[] {
  const out: number[] = [];
  for (const fd of liveObjects('link')) {
    try {
      const i = linkInfo(fd.value);
      if (progIds.includes(i.progId)) out.push(i.id);
    } finally {
      fd.close();
    }
  }
  return out;
}
