// States of the waiter thread's shared word (main thread and waiter thread both read it).
export const IDLE = 0;
export const ARMED = 1;
export const CLOSED = 2;
