// Typed errors of the event readers (ring buffer, perf event array, trace_pipe).
import { TsbpfError } from '../errors.js';

/** A reader cannot be made for this input (a map of the wrong type, no maps, a closed map). */
export class ReaderArgumentError extends TsbpfError {
  readonly reader: string;
  constructor(reader: string, message: string) {
    super(`${reader}: ${message}`);
    this.reader = reader;
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
