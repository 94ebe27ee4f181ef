// Body of the waiter thread (see waiter.ts): blocks in epoll_pwait while armed, reports readiness
// to the main thread, then sleeps on the shared state word until re-armed or closed.
import { parentPort, workerData } from 'node:worker_threads';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { IDLE, ARMED, CLOSED } from './wait-state.js';

const { epollFd, state } = workerData as { epollFd: number; state: SharedArrayBuffer };
const st = new Int32Array(state);
const f = ffi();
const events = f.alloc(16 * 16);
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
  Atomics.compareExchange(st, 0, ARMED, IDLE);
  port.postMessage(0);
}
f.free(events);
