/**
 * Child-process helper: opens the log in argv[2] and prints 'opened' (then closes), or the error code.
 * With argv[3] === 'hold' it prints 'holding' and keeps the log open until killed.
 */
import { isLogStorageError, Log } from '../../src/main.js';

const [dir, mode] = process.argv.slice(2);
try {
  const log = await Log.open(dir!);
  if (mode === 'hold') {
    console.log('holding');
    setInterval(() => undefined, 1000);
  } else {
    await log.close();
    console.log('opened');
  }
} catch (error) {
  console.log(isLogStorageError(error) ? error.code : String(error));
}
