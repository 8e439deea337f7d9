#!/usr/bin/env node
/** The `seglog` executable (package.json `bin`): runs the command line in `main.ts`. */
import { run } from './main.js';

// `seglog dump dir | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await run(process.argv.slice(2));
