/**
 * Lazy loading of the native codec modules (STYLE 18): `import 'seglog'` loads none of them; each loads on
 * its codec's first use. A module that fails to load (not installed, or no build for this platform) is an
 * `UnsupportedCodecError` naming the package, raised where the codec is used.
 */
import { createRequire } from 'node:module';
import { UnsupportedCodecError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Returns a memoized loader for `specifier`, which must export what `T` describes. */
export function lazyModule<T>(specifier: string, codec: string): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded === undefined) {
      try {
        loaded = require(specifier) as T;
      } catch (error) {
        throw new UnsupportedCodecError(`the ${codec} codec needs the '${specifier}' package, which failed to load`, { cause: error });
      }
    }
    return loaded;
  };
}
