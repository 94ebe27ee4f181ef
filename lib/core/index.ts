// lib/core: CO-RE relocation against a target BTF (pure: BTF in, patched instructions out).
export { CORE_RELO, coreReloKindName, isFieldBased, isTypeBased, isEnumvalBased } from './kinds.js';
export { CoreRelocationError, CoreNoKernelBtfError, type CoreRelocationWhere } from './errors.js';
export { essentialName, essentialNameLen, parseAccessSpec, formatSpec, type AccessSpec, type Accessor } from './spec.js';
export { fieldsAreCompat, typesAreCompat, typesMatch } from './compat.js';
export { specMatch } from './match.js';
export { calcRelo, type CoreResult } from './calc.js';
export { patchInsn, POISON_HELPER } from './patch.js';
export { findCandidates, findCandidatesIn, type Candidate, type CoreTarget } from './candidates.js';
export { CoreRelocator, type CoreRelocation, type CoreApplied } from './relocate.js';
