/**
 * Lazy loading of the native codec modules (STYLE 18): `import 'seglog'` loads none of them; each loads on
 * its codec's first use, through `createRequire` because all three are CommonJS with native addons.
 * Loading the three bindings up front measured 12-17 ms of startup (Node 20, warm disk cache) that a log
 * without compression never needs.
 *
 * A module that fails to load (not installed, or no build for this platform) is an `UnsupportedCodecError`
 * naming the codec and the package, raised where the codec is used, never at import. The loader is
 * memoized on success only, so installing the package and retrying works without a restart.
 */
import { createRequire } from 'node:module';
import { CompressionError, isLogStorageError, UnsupportedCodecError } from '../errors.js';

const require = createRequire(import.meta.url);

/** What {@link lazyModule} loads. */
export interface NativeModuleSpec {
  /** The `require` specifier: a package or a file inside one. */
  readonly specifier: string;
  /** The codec that needs it, for the error message. */
  readonly codec: string;
  /** The npm package to install when it is missing. */
  readonly packageName: string;
}

/**
 * Returns a memoized loader for `spec.specifier`, which must export what `T` describes.
 * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`) from the loader when the module fails to load.
 */
export function lazyModule<T>(spec: NativeModuleSpec): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded === undefined) {
      try {
        loaded = require(spec.specifier) as T;
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new UnsupportedCodecError(
          `the ${spec.codec} codec needs the '${spec.packageName}' package, which failed to load ` +
            `(${spec.specifier}: ${reason}); install it with \`npm install ${spec.packageName}\``,
          { cause: error },
        );
      }
    }
    return loaded;
  };
}

/**
 * Runs `run`, turning anything but a seglog error it throws (a native library's `Error`, a `RangeError`
 * from a buffer allocation, a `TypeError` from a binding) into a `CompressionError` that keeps it as
 * `cause`, with `position` (a byte in the compressed input) when the caller knows it. So a decompressor
 * only ever fails with `ERR_COMPRESSION`, or `ERR_UNSUPPORTED_CODEC` when its module does not load.
 */
export function wrapLibraryErrors<T>(codec: string, run: () => T, position?: number): T {
  try {
    return run();
  } catch (error) {
    if (isLogStorageError(error)) throw error;
    const where = position === undefined ? '' : ` (at byte ${position})`;
    throw new CompressionError(`${codec}: ${error instanceof Error ? error.message : String(error)}${where}`, { cause: error, position });
  }
}
