/** Crash-test child process: only opens the log in argv[2] (running recovery), prints 'opened', closes. */
import { Log } from '../../src/main.js';

const log = await Log.open(process.argv[2]!, { segmentBytes: 2048, indexIntervalBytes: 256, segmentIndexBytes: 4096 });
process.stdout.write('opened\n');
await log.close();
