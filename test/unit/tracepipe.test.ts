import { expect } from 'chai';
import { parseTraceLine } from '../../lib/tracepipe/index.js';

describe('trace_pipe line parsing', () => {
  it('parses the default format with flags', () => {
    const l = parseTraceLine('          <idle>-0       [001] d.s3.  1234.567890: bpf_trace_printk: hello world: 42');
    expect(l).to.deep.include({ task: '<idle>', pid: 0, cpu: 1, flags: 'd.s3.', timestamp: 1234.56789, event: 'bpf_trace_printk', message: 'hello world: 42' });
  });

  it('tasks with dashes and spaces, the tgid column, no flags column', () => {
    expect(parseTraceLine(' kworker/u4:2-mm-99  (   77) [000] ....  5.000001: bpf_trace_printk: x')).to.deep.include({ task: 'kworker/u4:2-mm', pid: 99, tgid: 77, cpu: 0, flags: '....', message: 'x' });
    expect(parseTraceLine('  my task-1234  [003]  10.5: bpf_trace_printk: y')).to.deep.include({ task: 'my task', pid: 1234, cpu: 3, flags: '', timestamp: 10.5, message: 'y' });
    expect(parseTraceLine('  node-5 (-------) [002] ..... 7.25: sched_switch: prev=a')).to.deep.include({ tgid: undefined, event: 'sched_switch', message: 'prev=a' });
  });

  it('non-record lines give undefined', () => {
    expect(parseTraceLine('CPU:1 [LOST 3 EVENTS]')).to.equal(undefined);
    expect(parseTraceLine('')).to.equal(undefined);
  });
});
