# The seglog native addon (native/): CRC-32C over record batches, the record-length walk of appendBatch. Built by `npm install` (node-gyp, the
# same toolchain the lz4 and mmap dependencies need). src/record/crc32c.ts loads it lazily and falls back
# to @node-rs/crc32 or crc-32 when it is missing.
{
  "targets": [
    {
      "target_name": "seglog_native",
      "sources": ["native/addon.c", "native/crc32c.c", "native/record-lengths.c", "native/verify-batches.c", "native/beside.c", "native/reserve.c"],
      "cflags": ["-O3", "-std=c11", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] }
    }
  ]
}
