export { readObject, ObjectSpec, objectNameOf, type ReadObjectOptions } from './read.js';
export { loadObject, type LoadObjectOptions } from './load.js';
export type { ProgramLoadOptions } from './device.js';
export { BpfObject } from './object.js';
export { Globals } from './globals.js';
export { ObjectError, LoadError, PinMismatchError, type ObjectLocation } from './errors.js';
export { SECTION_DEFS, findSection, type SectionDef } from './sections.js';
export { DEFAULT_PIN_PATH } from './pin.js';
export type { VariableValue } from './variables.js';
export type {
  ProgramSpec, FunctionSpec, CoreRelocationSpec, MapSpec, VariableSpec, Relocation, RelocationTarget, FuncInfo, LineInfo, PinningType,
} from './spec.js';
