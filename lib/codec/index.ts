export { compileCodec, type CodecOptions, type TypedCodec } from './compile.js';
export { userCodec, intCodec, type UserCodec } from './user.js';
export { CodecError, type CodecProblem } from './errors.js';
export type { CodecType, CodecTypeSource, CodecMember } from './types.js';
export { withBtfCodecs, type MapCodecOptions } from './typed-map.js';
export { generateTypes, type GenerateTypesOptions } from './ts-types.js';
