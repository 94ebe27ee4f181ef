// Every top-level CLI object (feature, btf, object, prog, map, net, export) registers here.
import type { Command } from 'commander';
import { registerFeature } from './feature.js';

export function registerCommands(program: Command): void {
  registerFeature(program);
}
