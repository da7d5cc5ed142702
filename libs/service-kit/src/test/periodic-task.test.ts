import { PeriodicTask } from '../periodic-task';

/** A promise whose resolution the test controls. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('PeriodicTask', () => {
  it('joins the pass in progress instead of overlapping it, then runs a new one', async () => {
    const release = gate();
    let passes = 0;
    const task = new PeriodicTask(async () => {
      passes += 1;
      await release.opened;
      return passes;
    }, 60_000);
    const first = task.run();
    const joined = task.run();
    release.open();
    expect(await first).toBe(1);
    expect(await joined).toBe(1);
    expect(await task.run()).toBe(2);
    await task.close();
  });

  it('close() waits for the pass in progress, also one that fails', async () => {
    const release = gate();
    let finished = false;
    const task = new PeriodicTask(async () => {
      await release.opened;
      finished = true;
      throw new Error('pass failed');
    }, 60_000);
    const pass = task.run().catch((err: Error) => err.message);
    const closed = task.close();
    release.open();
    await closed;
    expect(finished).toBe(true);
    expect(await pass).toBe('pass failed');
  });
});
