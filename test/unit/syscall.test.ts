import { expect } from 'chai';
import {
  BPF_ATTACH_TYPE, BPF_MAP_TYPE, BpfError, BpfPermissionError, KeyNotFoundError,
  attachTypeName, attachTypeNumber, bpfError, cmdName, errnoCode, errnoName, mapTypeName, mapTypeNumber,
} from '../../lib/syscall/index.js';
import { TsbpfError } from '../../lib/errors.js';
import { BpfArgumentError } from '../../lib/syscall/errors.js';
import { MAP, PROT, mmap } from '../../lib/syscall/mmap.js';

describe('lib/syscall tables and errors', () => {
  it('names errnos both ways', () => {
    expect(errnoName(7)).to.equal('E2BIG');
    expect(errnoName(-2)).to.equal('ENOENT');
    expect(errnoName(524)).to.equal('ENOTSUPP');
    expect(errnoCode('EOPNOTSUPP')).to.equal(95);
    expect(errnoName(4000)).to.equal('E4000');
  });

  it('carries cmd, errno name and number on BpfError, and is a TsbpfError', () => {
    const e = bpfError(2, 7);
    expect(e).to.be.instanceOf(BpfError);
    expect(e).to.be.instanceOf(TsbpfError);
    expect(e).to.include({ cmd: 'MAP_UPDATE_ELEM', errno: 'E2BIG', code: 7 });
    expect(e.message).to.contain('MAP_UPDATE_ELEM').and.contain('E2BIG');
  });

  it('refuses a mapping one ArrayBuffer cannot view before mapping it (koffi aborted the process past 4 GiB)', () => {
    for (const length of [2 ** 32 + 4096, 2 ** 40, 0, -4096, NaN, 1.5]) {
      expect(() => mmap(-1, length, PROT.READ, MAP.PRIVATE | 0x20), String(length)).to.throw(BpfArgumentError, /mmap: .* bytes of fd -1: a mapping is viewed as one ArrayBuffer/);
    }
  });

  it('picks the class callers branch on', () => {
    expect(bpfError(1, 2)).to.be.instanceOf(KeyNotFoundError);
    expect(bpfError(4, 2)).to.not.be.instanceOf(KeyNotFoundError); // GET_NEXT_KEY's ENOENT is the end, not a missing key
    const perm = new BpfPermissionError('PROG_LOAD', 1, ['CAP_BPF', 'CAP_NET_ADMIN']);
    expect(perm.message).to.contain('CAP_BPF').and.contain('CAP_NET_ADMIN');
  });

  it('has the upstream enum numbers, including TCX and netkit', () => {
    expect(BPF_ATTACH_TYPE.TCX_INGRESS).to.equal(46);
    expect(BPF_ATTACH_TYPE.TCX_EGRESS).to.equal(47);
    expect(BPF_ATTACH_TYPE.NETKIT_PRIMARY).to.equal(54);
    expect(BPF_MAP_TYPE.RINGBUF).to.equal(27);
    expect(mapTypeNumber('percpu_hash')).to.equal(5);
    expect(mapTypeName(19)).to.equal('cgroup_storage');
    expect(attachTypeName(attachTypeNumber('tcx_egress')!)).to.equal('tcx_egress');
    expect(cmdName(10)).to.equal('PROG_TEST_RUN');
    expect(mapTypeNumber('no_such_type')).to.equal(undefined);
  });
});
