// `tsbpf net attach|detach` argument reading: every mistake is a CliError (one `Error:` line, exit 1)
// found before any program is opened or the kernel asked, so these run without privileges.
import { expect } from 'chai';
import { netAttach, netDetach } from '../../lib/cli/net.js';
import { CliError } from '../../lib/cli/bpf-objects.js';

describe('CLI net arguments', () => {
  const refused: [string, () => unknown, RegExp][] = [
    ['a keyword without its value (mode)', () => netDetach('xdp', ['dev', 'veth0', 'mode']), /^mode needs a value$/],
    ['a keyword without its value (dev)', () => netDetach('xdp', ['dev']), /^dev needs a value$/],
    ['mode before the program is opened', () => netAttach('xdp', ['pinned', '/nonexistent/pin', 'dev', 'veth0', 'mode']), /^mode needs a value$/],
    ['an unknown mode', () => netDetach('xdp', ['dev', 'veth0', 'mode', 'auto']), /^mode must be drv, skb, hw, got "auto"$/],
    ['an unknown attach mode', () => netAttach('xdp', ['id', '1', 'dev', 'veth0', 'mode', 'native']), /^mode must be drv, skb, hw, auto, got "native"$/],
    ['a keyword the hook does not take', () => netDetach('tc', ['dev', 'veth0', 'ingress', 'mode', 'skb']), /^net detach tc takes no mode$/],
    ['a program where none is taken', () => netDetach('xdp', ['id', '3', 'dev', 'veth0']), /^net detach xdp takes no id$/],
    ['no direction', () => netDetach('tc', ['dev', 'veth0']), /^ingress or egress is required$/],
    ['no program', () => netAttach('tc', ['dev', 'veth0', 'ingress']), /^a program is required: id N or pinned PATH$/],
    ['no dev', () => netAttach('tcx', ['id', '3', 'ingress']), /^dev IF is required$/],
    ['an unknown word', () => netDetach('xdp', ['dev', 'veth0', 'bogus']), /^unexpected argument "bogus"$/],
    ['an unknown hook', () => netAttach('foo', ['id', '1', 'dev', 'veth0']), /^unknown hook foo \(xdp, tc or tcx\)$/],
    ['an empty prio', () => netDetach('tc', ['dev', 'veth0', 'ingress', 'prio']), /^prio needs a number up to 65535, got nothing$/],
    // the last of a repeated or conflicting keyword used to win silently
    ['both directions', () => netAttach('tc', ['id', '1', 'dev', 'veth0', 'ingress', 'egress']), /^ingress and egress are given together \(one of them\)$/],
    ['a repeated prio', () => netAttach('tc', ['id', '1', 'dev', 'veth0', 'ingress', 'prio', '5', 'prio', '6']), /^prio is given twice$/],
    ['prio and pref', () => netDetach('tc', ['dev', 'veth0', 'ingress', 'prio', '5', 'pref', '6']), /^prio and pref are given together/],
    ['two programs', () => netAttach('xdp', ['id', '1', 'pinned', '/sys/fs/bpf/p', 'dev', 'veth0']), /^id and pinned are given together/],
    ['two devs', () => netDetach('xdp', ['dev', 'veth0', 'dev', 'veth1']), /^dev is given twice$/],
  ];
  for (const [what, run, msg] of refused) {
    it(`refuses ${what}`, () => {
      expect(run).to.throw(CliError, msg);
    });
  }
});
