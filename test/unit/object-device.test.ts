// loadObject's `programs` option checked against the object before anything touches the kernel:
// which programs may be bound to a device and what a wrong option says (no interface is looked up).
import { expect } from 'chai';
import { readObject, ObjectError } from '../../lib/object/index.js';
import { deviceBindings } from '../../lib/object/device.js';
import { InvalidInterfaceError } from '../../lib/netlink/errors.js';
import { BPF_ATTACH_TYPE } from '../../lib/syscall/types.js';
import { thrown } from '../helpers/crafted-elf.js';

describe('loadObject programs: device binding checks', () => {
  const spec = readObject('bpf/xdp_metadata.o');

  it('no option, or a program with no interface, binds nothing', () => {
    expect(deviceBindings(spec, undefined).bindings.size).to.equal(0);
    expect(deviceBindings(spec, { xdp_metadata: {} }).bindings.size).to.equal(0);
  });

  it('an unknown program name lists the object\'s programs', () => {
    const e = thrown(() => deviceBindings(spec, { xdp_meta: { interface: 'veth0' } }));
    expect(e).to.be.instanceOf(ObjectError).and.include({ program: 'xdp_meta' });
    expect(e.message).to.equal('programs: object xdp_metadata has no program "xdp_meta" (its programs: xdp_metadata, xdp_bounce, tc_flow_hash, tc_vlan_push)');
  });

  it('only XDP programs are bound, and not those for devmap or cpumap entries', () => {
    const e = thrown(() => deviceBindings(spec, { tc_flow_hash: { interface: 'veth0' } }));
    expect(e).to.be.instanceOf(ObjectError).and.include({ program: 'tc_flow_hash', section: 'tc' });
    expect(e.message).to.equal('programs.tc_flow_hash: program tc_flow_hash (section tc) is a sched_cls program; only XDP programs are loaded bound to a device (interface)');
    const devmap = spec.copy();
    devmap.programs.get('xdp_metadata')!.attachType = BPF_ATTACH_TYPE.XDP_DEVMAP;
    expect(thrown(() => deviceBindings(devmap, { xdp_metadata: { interface: 'veth0' } })).message)
      .to.match(/runs from devmap entries, which the kernel refuses for a device-bound program/);
  });

  it('a malformed interface, a netns without an interface, a program not loaded, a non-object option', () => {
    expect(thrown(() => deviceBindings(spec, { xdp_metadata: { interface: 0 } }))).to.be.instanceOf(InvalidInterfaceError);
    expect(thrown(() => deviceBindings(spec, { xdp_metadata: { interface: '' } }))).to.be.instanceOf(InvalidInterfaceError);
    expect(thrown(() => deviceBindings(spec, { xdp_metadata: { netns: 'pod1' } })).message)
      .to.equal('programs.xdp_metadata: netns says where the interface is, but no interface is given');
    const off = spec.copy();
    off.programs.get('xdp_metadata')!.autoload = false;
    expect(thrown(() => deviceBindings(off, { xdp_metadata: { interface: 'veth0' } })).message)
      .to.equal('programs.xdp_metadata: program xdp_metadata is not loaded (autoload is off), so it cannot be bound to veth0');
    expect(thrown(() => deviceBindings(spec, { xdp_metadata: 'veth0' as never })).message)
      .to.equal("programs.xdp_metadata: expected an object such as { interface: 'eth0' }, got string");
  });
});
