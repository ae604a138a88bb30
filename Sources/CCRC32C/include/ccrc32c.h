#ifndef HWGEN_CCRC32C_H
#define HWGEN_CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli) with the processor's instruction, for Codec's CRC32C.
   hwgen_crc32c_hardware: 1 when this CPU has one (x86-64 SSE4.2, AArch64 CRC), else 0.
   hwgen_crc32c_update: the CRC register after `reg` (already inverted, as the algorithm keeps
   it) over `count` bytes at `data`; call it only when hwgen_crc32c_hardware() is 1. */
int hwgen_crc32c_hardware(void);
uint32_t hwgen_crc32c_update(uint32_t reg, const void *data, size_t count);

#endif
