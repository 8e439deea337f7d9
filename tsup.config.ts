import { defineConfig } from 'tsup';

// The library (ESM + CJS + declarations), the `seglog` command, and the benchmarks that `seglog bench`
// runs. Native codec and mmap packages stay external (dependencies are external by default): they load
// lazily at run time (STYLE 18) from the user's node_modules. The command and the benchmarks import the
// library by its package name, so they share the one built copy.
export default defineConfig([
  {
    entry: { index: 'src/main.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: true,
    shims: true,
  },
  {
    entry: { cli: 'src/cli/bin.ts', bench: 'bench/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    splitting: true,
    external: ['seglog', 'kafkajs', 'kafkajs-lz4'],
  },
]);
