import { expect } from 'chai';
import { isPerCpu, parseCpuList } from '../../lib/map/index.js';
import { BPF_MAP_TYPE } from '../../lib/syscall/types.js';

describe('BpfMap helpers (no kernel)', () => {
  it('counts CPUs in the kernel list format', () => {
    expect(parseCpuList('0-3\n')).to.equal(4);
    expect(parseCpuList('0')).to.equal(1);
    expect(parseCpuList('0,2-5,8')).to.equal(6);
    expect(() => parseCpuList('zero')).to.throw(/cannot parse CPU list/);
  });

  it('knows which map types hold one value per CPU', () => {
    expect(isPerCpu(BPF_MAP_TYPE.PERCPU_HASH)).to.equal(true);
    expect(isPerCpu(BPF_MAP_TYPE.LRU_PERCPU_HASH)).to.equal(true);
    expect(isPerCpu(BPF_MAP_TYPE.PERCPU_ARRAY)).to.equal(true);
    expect(isPerCpu(BPF_MAP_TYPE.HASH)).to.equal(false);
  });
});
