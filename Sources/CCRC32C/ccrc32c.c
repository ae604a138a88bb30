/* CRC-32C with the processor's instruction: x86-64 SSE4.2 crc32, or AArch64 crc32c. The
   portable slicing-by-8 version lives in Swift (Sources/Codec/CRC32C.swift); this file only
   makes it fast where the instruction exists, and is checked against it by the tests. */
#include "ccrc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int hwgen_crc32c_hardware(void) { return __builtin_cpu_supports("sse4.2") ? 1 : 0; }

__attribute__((target("sse4.2")))
uint32_t hwgen_crc32c_update(uint32_t reg, const void *data, size_t count) {
    const unsigned char *p = data;
    uint64_t c = reg;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        count -= 8;
    }
    uint32_t r = (uint32_t)c;
    while (count > 0) {
        r = _mm_crc32_u8(r, *p++);
        count--;
    }
    return r;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

int hwgen_crc32c_hardware(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0; }

__attribute__((target("+crc")))
uint32_t hwgen_crc32c_update(uint32_t reg, const void *data, size_t count) {
    const unsigned char *p = data;
    uint32_t r = reg;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        r = __crc32cd(r, word);
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        r = __crc32cb(r, *p++);
        count--;
    }
    return r;
}

#else
int hwgen_crc32c_hardware(void) { return 0; }
uint32_t hwgen_crc32c_update(uint32_t reg, const void *data, size_t count) {
    (void)data;
    (void)count;
    return reg;
}
#endif
