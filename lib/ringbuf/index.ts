export { RingBuffer, mapShape, type MapSource, type RecordCallback, type RawRecordCallback } from './reader.js';
export { Ring, RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT, RINGBUF_HDR_SZ } from './ring.js';
export { ReaderArgumentError, ReaderBusyError, RingBufferCorruptError } from './errors.js';
export { EpollWaiter } from './waiter.js';
