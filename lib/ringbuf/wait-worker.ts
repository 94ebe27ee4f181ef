// Body of the waiter thread (see waiter.ts): blocks in epoll_pwait while armed, reports readiness
// to the main thread, then sleeps on the shared state word until re-armed or closed. Node cannot
// stop a thread that sits in a blocking syscall (at exit it joins its workers and would hang), so
// the main thread takes us out of epoll_pwait (eventfd) whenever nobody waits any more.
import { parentPort, workerData } from 'node:worker_threads';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { IDLE, ARMED, CLOSED } from './wait-state.js';

const { epollFd, wakeFd, state } = workerData as { epollFd: number; wakeFd: number; state: SharedArrayBuffer };
const st = new Int32Array(state);
const f = ffi();
const events = f.alloc(16 * 16);
const counter = f.alloc(8);
const port = parentPort!;

for (;;) {
  Atomics.wait(st, 0, IDLE);
  const s = Atomics.load(st, 0);
  if (s === CLOSED) break;
  if (s !== ARMED) continue;
  const r = f.syscall6(SYS.epoll_pwait, epollFd, events.address, 16, -1, 0, 8);
  if (Atomics.load(st, 0) === CLOSED) break;
  if (r === -4) continue; // EINTR: wait again
  if (r < 0) {
    port.postMessage({ errno: -r });
    break;
  }
  // the main thread writes the eventfd to take us out of epoll_pwait when it no longer waits
  // (disarm): read it back to zero (non-blocking) or every later epoll_pwait returns at once
  f.syscall3(SYS.read, wakeFd, counter.address, 8);
  // report only if still armed: after a disarm nobody is waiting (a wait() since then re-armed,
  // and gets this report as a spurious wakeup, which callers allow)
  if (Atomics.compareExchange(st, 0, ARMED, IDLE) === ARMED) port.postMessage(0);
}
f.free(counter);
f.free(events);
