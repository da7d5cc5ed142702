/**
 * Calls `onOrphaned` once when this process's parent goes away. `npm run stack` runs us under
 * `sh -c`; a tool that stops the stack with SIGTERM to npm kills npm and its shell, but nothing
 * forwards the signal to us, and we would keep every memcached node and service running. An
 * orphan is re-parented (ppid changes), which a cheap poll notices.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
