// Every top-level CLI object (feature, btf, object, prog, map, link, iter, net, cgroup, export, gen) registers here.
import type { Command } from 'commander';
import { registerFeature } from './feature.js';
import { registerBtf } from './btf.js';
import { registerObject } from './object.js';
import { registerProgLoad } from './prog-load.js';
import { registerProgShow } from './prog.js';
import { registerMap } from './map.js';
import { registerExport } from './export.js';
import { registerNet } from './net.js';
import { registerCgroup } from './cgroup.js';
import { registerGen } from './gen.js';
import { registerLink } from './link.js';
import { registerIter } from './iter.js';

export function registerCommands(program: Command): void {
  registerFeature(program);
  registerBtf(program);
  registerObject(program);
  registerProgLoad(program);
  registerProgShow(program);
  registerMap(program);
  registerLink(program);
  registerIter(program);
  registerExport(program);
  registerNet(program);
  registerCgroup(program);
  registerGen(program);
}
