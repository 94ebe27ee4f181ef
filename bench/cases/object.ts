// Loader row (issue 4): open + load + close of a 2-program object in-process, ns per whole cycle;
// baseline bench/c/object_load.c (bpf_object__open_file + bpf_object__load + bpf_object__close of
// the same bpf/obj_callback.o). Both sides parse the file afresh each time. Warm-up: 1000 loads (the C
// side warms up with 10): the reader's and loader's code runs once or a few times per load, and V8 takes
// about a thousand loads to optimize it (rounds of 100 measured 1.6, 1.2, 1.2, 1.0, 0.7 ms, then
// 0.4-0.55 ms per load from the ~8th round on); the rows are about the warmed loader.
import { loadObject, readObject } from '../../lib/object/index.js';
import { measure, type BenchCase } from '../lib/case.js';

const FILE = 'bpf/obj_callback.o';
const WARMUP = 1000;

export const cases: BenchCase[] = [{
  id: 'object_load',
  title: `open + load + close ${FILE} (2 programs, callbacks, BTF map, .data)`,
  targets: [{ max: 1.2, label: '≤ 1.2× bpf_object__open_file+load' }],
  run: () => measure((ops) => { for (let i = 0; i < ops; i++) loadObject(FILE).close(); }, 100, WARMUP),
}, {
  // the load stage alone (the spec read once): how much of object_load is reading the file
  id: 'object_load_spec',
  ref: 'object_load',
  title: `load + close of ${FILE} from an ObjectSpec read once (no file parsing)`,
  run: () => {
    const spec = readObject(FILE);
    return measure((ops) => { for (let i = 0; i < ops; i++) loadObject(spec).close(); }, 100, WARMUP);
  },
}];
