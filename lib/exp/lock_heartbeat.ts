/**
 * The heartbeat of a run's lock, in a worker thread of its own: the training loop's steps are
 * synchronous native calls chained by promises that resolve at once, so a timer on the main
 * thread can starve for a whole epoch (a 160 s VGG epoch let a second worker take over a live
 * run). This thread's event loop is not blocked by training; it touches the lock file until it
 * is terminated, or dies with the process.
 */
/// <reference lib="deno.worker" />
self.onmessage = (ev: MessageEvent<{ path: string; everyMs: number }>) => {
  const { path, everyMs } = ev.data;
  const touch = () => {
    try {
      const now = new Date();
      Deno.utimeSync(path, now, now);
    } catch {
      // the file went away (released, or taken over after a long stop): nothing to keep alive
    }
  };
  touch();
  setInterval(touch, everyMs);
};
