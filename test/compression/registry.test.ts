/**
 * The codec table: ids and names, typed errors for unknown codecs, no mutable registry, and lazy loading
 * (importing seglog loads no native codec module; each loads on its codec's first use; a module that fails
 * to load is `ERR_UNSUPPORTED_CODEC` with a message naming the package).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CompressionType, type CompressionName } from '../../src/compression/codec.js';
import { nativeAddon } from '../../src/addon.js';
import { lazyModule } from '../../src/compression/native.js';
import { codecById, codecByName, compressionIdOf } from '../../src/compression/registry.js';

const NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('codecById, codecByName, compressionIdOf', () => {
  it('ids 0-4 are Kafka\'s: none, gzip, snappy, lz4, zstd', () => {
    expect(NAMES.map((name) => codecById(CompressionType[name]).name)).toEqual(NAMES);
    for (const [id, name] of NAMES.entries()) {
      expect(codecById(id).id).toBe(id);
      expect(codecByName(name)).toBe(codecById(id));
      expect(compressionIdOf(name)).toBe(id);
      expect(compressionIdOf(id)).toBe(id);
    }
  });

  it('unknown ids are ERR_UNSUPPORTED_CODEC with the id as `actual`', () => {
    for (const id of [5, 6, 7, -1, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => codecById(id), String(id)).toThrow(expect.objectContaining({ name: 'UnsupportedCodecError', code: 'ERR_UNSUPPORTED_CODEC', actual: id }));
    }
  });

  it('unknown names and ids given to compressionIdOf or codecByName are ERR_UNSUPPORTED_CODEC', () => {
    for (const bad of ['brotli', 'LZ4', '', 'toString', '__proto__', 5, -1, 0.5]) {
      expect(() => compressionIdOf(bad), String(bad)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_CODEC', actual: bad }));
    }
    expect(() => codecByName('brotli' as CompressionName)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_CODEC' }));
  });

  it('the codecs are frozen: there is nothing process-wide to re-register or patch', () => {
    for (const name of NAMES) {
      const codec = codecByName(name);
      expect(Object.isFrozen(codec), name).toBe(true);
      expect(() => Object.assign(codec, { compress: () => new Uint8Array(0) })).toThrow(TypeError);
    }
  });
});

describe('lazy native modules', () => {
  it('importing seglog loads no native codec; each loads on its codec\'s first use', { timeout: 20_000 }, () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => ['snappy', 'lz4', 'zstd-napi'].filter((pkg) =>
        Object.keys(require.cache).some((file) => file.includes('/node_modules/' + pkg + '/') || (pkg === 'snappy' && file.includes('/@napi-rs/snappy'))));
      await import('./src/main.ts');
      const { codecByName } = await import('./src/compression/registry.ts');
      const steps = { afterImport: loaded() };
      codecByName('gzip').compress(Buffer.from('x'));
      steps.afterGzip = loaded();
      // Decompressed too: with seglog's addon built, lz4 compresses and decompresses Kafka's frames without
      // node-lz4 (native/lz4-frame.c, native/lz4-decode.c), so node-lz4 is never loaded.
      codecByName('lz4').decompress(codecByName('lz4').compress(Buffer.from('x')), { magic: 2, maxBytes: 10 });
      steps.afterLz4 = loaded();
      codecByName('snappy').decompress(codecByName('snappy').compress(Buffer.from('x')), { magic: 2, maxBytes: 10 });
      codecByName('zstd').compress(Buffer.from('x'));
      steps.afterAll = loaded();
      console.log(JSON.stringify(steps));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    const lz4 = nativeAddon()?.lz4DecompressFrame === undefined ? ['lz4'] : [];
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      afterImport: [],
      afterGzip: [],
      afterLz4: lz4,
      afterAll: ['snappy', ...lz4, 'zstd-napi'],
    });
  });

  it('a module that fails to load is ERR_UNSUPPORTED_CODEC naming the package, raised on use, not on import', () => {
    const load = lazyModule<object>({ specifier: 'seglog-test-no-such-package', codec: 'brotli', packageName: 'seglog-test-no-such-package' });
    let thrown: unknown;
    try {
      load();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'UnsupportedCodecError', code: 'ERR_UNSUPPORTED_CODEC' });
    expect((thrown as Error).message).toMatch(/the brotli codec needs the 'seglog-test-no-such-package' package/);
    expect((thrown as Error).message).toMatch(/npm install seglog-test-no-such-package/);
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });
});
