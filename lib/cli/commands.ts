// Every top-level CLI object (feature, btf, object, prog, map, net, export) registers here.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
