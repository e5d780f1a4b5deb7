// Preloaded (`node --expose-gc -r .../gc-on-signal.js`) into a server under test: SIGUSR2
// collects garbage, so that a test reads the heap of what is alive rather than wherever the
// collector happens to be.
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) process.on('SIGUSR2', () => collect());
