export { probe, probeMapType, probeProgType, probeLinkAttachType, probeBtfKind, probeBtfFeatures, type Features } from './probe.js';
export { btfBlobFor, BTF_KIND_NAMES, type BtfKindName } from './btf-blobs.js';
