/**
 * Imported before the server's entry point by the process-guard test: on
 * SIGUSR2 it throws from a timer (an uncaught exception), on SIGUSR1 it
 * rejects a promise nobody awaits (an unhandled rejection).
 */
process.on('SIGUSR1', () => {
  void Promise.reject(new Error('test: an unhandled rejection'));
});
process.on('SIGUSR2', () => {
  setTimeout(() => {
    throw new Error('test: an uncaught exception');
  }, 0);
});
