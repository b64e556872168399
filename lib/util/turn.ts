/**
 * A training step is a chain of synchronous native (or wasm) calls whose promises resolve at
 * once, so a loop of them never gives the event loop a turn: timers and signal listeners wait
 * for the next real I/O, which was the end of the epoch. Ctrl-C and SIGTERM then took effect a
 * whole epoch late (160 s for VGG at 224 px on the laptop preset, 15 min at the full one).
 * `eventLoopTurn()` between steps yields one macrotask turn, at most every `everyMs`, so that
 * they run after the current step, as promised.
 */
let last = 0;

export async function eventLoopTurn(everyMs = 200): Promise<void> {
  const now = performance.now();
  if (now - last < everyMs) return;
  last = now;
  await new Promise((r) => setTimeout(r, 0));
}
