# The seglog native addon (native/): CRC-32C over record batches, the record-length walk of appendBatch, and
# the Kafka LZ4 frame compressor and decompressor. Built by `npm install` (node-gyp, the same toolchain the
# lz4 and mmap dependencies need). src/addon.ts loads it lazily; every caller falls back to JS or to another package
# when it is missing.
#
# LZ4: the block compressor, the block decompressor and xxHash32 are compiled from the lz4 dependency's bundled LZ4 library
# (node-lz4 0.6.5 ships LZ4 1.9.2 in deps/lz4/lib), found where npm installed that package, hoisted or
# not; nothing of it is copied into this repository. That library is BSD 2-clause licensed (its
# deps/lz4/lib/LICENSE), which permits use in this Apache-2.0 package, source or binary, provided its
# copyright notice and license are kept, as they are in the installed lz4 package the sources are built from.
#
# -fvisibility=hidden: only the module entry is exported. With default visibility LZ4_compress_default
# measured 5-15% slower here than the same sources in node-lz4's build (a 64 KiB block: 74 against 64 us),
# with it the same (66-70 us both); presumably calls between LZ4's exported functions, no longer
# interposable, are inlined.
{
  "variables": {
    "lz4_lib": "<!(node -p \"require('path').relative('.', require('path').join(require('path').dirname(require.resolve('lz4/package.json')), 'deps', 'lz4', 'lib'))\")"
  },
  "targets": [
    {
      "target_name": "seglog_native",
      "sources": [
        "native/addon.c", "native/crc32c.c", "native/record-lengths.c", "native/verify-batches.c", "native/beside.c",
        "native/reserve.c", "native/lz4-frame.c", "native/lz4-decode.c", "<(lz4_lib)/lz4.c", "<(lz4_lib)/xxhash.c"
      ],
      "include_dirs": ["<(lz4_lib)"],
      "cflags": ["-O3", "-std=c11", "-pthread", "-fvisibility=hidden"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"], "GCC_SYMBOLS_PRIVATE_EXTERN": "YES" }
    }
  ]
}
