/**
 * Runs `work` with the phase set to 'running' (which hides "Start over" and
 * the other Retry buttons), then back to 'finished', also when it throws;
 * after an abort (the component is gone) the phase is left alone.
 */
export async function whileRunning(setPhase: (phase: 'running' | 'finished') => void, work: () => Promise<void>, aborted: () => boolean): Promise<void> {
  setPhase('running');
  try {
    await work();
  } finally {
    if (!aborted()) setPhase('finished');
  }
}
