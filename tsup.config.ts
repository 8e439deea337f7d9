import { defineConfig } from 'tsup';

// ESM + CJS + declarations from one entry. Native codec and mmap packages stay external:
// they are loaded lazily at run time (STYLE 18) and must resolve from the user's node_modules.
export default defineConfig({
  entry: { index: 'src/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/main.ts' } },
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: true,
});
