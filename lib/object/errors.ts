// Errors of the object stage: what in the object was wrong (section, program, map, symbol) and,
// for load failures, which kernel object could not be made (the BpfError is the cause).
import { TsbpfError } from '../errors.js';

export interface ObjectLocation {
  readonly section?: string;
  readonly program?: string;
  readonly map?: string;
  readonly symbol?: string;
}

/** The object cannot be read or loaded as it is: unknown section, bad map definition, bad relocation… */
export class ObjectError extends TsbpfError {
  readonly section?: string;
  readonly program?: string;
  readonly map?: string;
  readonly symbol?: string;
  constructor(message: string, where: ObjectLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.section = where.section;
    this.program = where.program;
    this.map = where.map;
    this.symbol = where.symbol;
  }
}

/**
 * A load step failed in the kernel: creating map `map`, loading program `program`, pinning.
 * `cause` is the BpfError (or VerifierError) with errno and log. Everything made before was released.
 */
export class LoadError extends ObjectError {}

/** A pinned map exists at the pin path but differs from the object's definition. */
export class PinMismatchError extends LoadError {
  readonly path: string;
  constructor(map: string, path: string, differences: readonly string[]) {
    super(`map ${map}: the map pinned at ${path} is not compatible (${differences.join('; ')}); remove the pin or change the definition`, { map });
    this.path = path;
  }
}
