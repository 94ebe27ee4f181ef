// tsbpf public API.
export {};
