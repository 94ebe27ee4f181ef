// Typed errors of the event readers (ring buffer, perf event array, trace_pipe).
import { TsbpfError } from '../errors.js';

/** A reader cannot be made for this input (a map of the wrong type, no maps, a closed map). */
export class ReaderArgumentError extends TsbpfError {
  readonly reader: string;
  constructor(reader: string, message: string, options?: { cause?: unknown }) {
    super(`${reader}: ${message}`, options);
    this.reader = reader;
  }
}

/**
 * A second consumer while a record is being processed: consume() from inside a record callback or
 * a 'record' listener, or while an async iterator holds a record it delivered (from its result
 * being looked at until its next next() or return(): a for await body). The record in hand would be
 * given back underneath its user and the consumer position could move backwards: one consumer at a time.
 */
export class ReaderBusyError extends TsbpfError {
  readonly reader: string;
  readonly operation: string;
  constructor(reader: string, operation: string) {
    super(`${reader}: ${operation} while a record is being processed (from inside a record callback, a 'record' listener or an async iteration holding a record: end an iteration you leave with break or return()); one consumer at a time`);
    this.reader = reader;
    this.operation = operation;
  }
}

/** The shared ring's contents cannot be right (a record longer than the ring): reading stops. */
export class RingBufferCorruptError extends TsbpfError {
  readonly map: string;
  /** consumer position at the bad record */
  readonly position: number;
  constructor(map: string, position: number, message: string) {
    super(`ring buffer${map ? ` ${map}` : ''}: ${message} at consumer position ${position}`);
    this.map = map;
    this.position = position;
  }
}
