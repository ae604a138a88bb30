/* The four-frame decode loops of both coders and the tANS encode loop (see ccodeckernels.h).
   Their Swift twins (the steps of `TANSCoder` and `HuffmanCoder: InterleavedCoder` in
   Sources/Codec/InterleavedFrames.swift, and TANSReverseFrame in
   Sources/Codec/TANSReverseEncoding.swift) stay the checked definitions:
   Swift's code for four frames' cursors kept many of its instructions as spills and reloads
   (docs/BENCHMARKS.md, session 20). */
#include "ccodeckernels.h"
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* bf16's raw byte placed: the sign (bit 7) to bit 15, the mantissa (bits 0-6) in place. A
   load costs one operation where the arithmetic ((raw * 0x101) & 0x807F) costs three. */
static const uint16_t bf16_raw_placed[256] = {
#define P4(r) (uint16_t)((((r) & 0x80u) << 8) | ((r) & 0x7Fu)), (uint16_t)((((r + 1) & 0x80u) << 8) | ((r + 1) & 0x7Fu)), \
              (uint16_t)((((r + 2) & 0x80u) << 8) | ((r + 2) & 0x7Fu)), (uint16_t)((((r + 3) & 0x80u) << 8) | ((r + 3) & 0x7Fu))
#define P16(r) P4(r), P4(r + 4), P4(r + 8), P4(r + 12)
#define P64(r) P16(r), P16(r + 16), P16(r + 32), P16(r + 48)
    P64(0), P64(64), P64(128), P64(192)
#undef P64
#undef P16
#undef P4
};

/* The 64 bits from `position` on, left-aligned. */
ALWAYS_INLINE uint64_t load_bits(const uint8_t *base, int64_t position) {
    uint64_t word;
    memcpy(&word, base + (position >> 3), 8);
    return __builtin_bswap64(word) << (position & 7);
}

/* One frame's step: `per_load` values from one load, or 0 before a flagged entry (the values
   before it taken). `per_load`, `raw_bits`, `place` and `coder` are constants where this is
   inlined. tANS looks up the frame's state (a 64-bit word; CODER_TANS_NO_ZERO where no direct
   entry has zero state bits, so one shift takes them); Huffman the next `64 - shift` bits (a
   32-bit word). */
enum { CODER_TANS = 0, CODER_HUFFMAN = 1, CODER_TANS_NO_ZERO = 2 };

ALWAYS_INLINE int step(const uint8_t *base, int64_t *position, uint64_t *state, uint32_t **out, const void *table, const int per_load,
                       const int raw_bits, const int place, const int coder, const uint64_t shift) {
    uint64_t bits = load_bits(base, *position);
    uint64_t s = *state;
    uint32_t *o = *out;
    /* The bits taken in this step, added to the position once at its end (the position is the
       next step's load address: adding to it per value would chain those adds). */
    uint64_t taken = 0;
    const uint64_t raw_mask = raw_bits > 0 ? (UINT64_C(1) << raw_bits) - 1 : 0;
    for (int j = 0; j < per_load; j++) {
        uint64_t used;
        uint32_t value;
        uint32_t raw = 0;
        if (coder == CODER_TANS || coder == CODER_TANS_NO_ZERO) {
            const uint64_t e = ((const uint64_t *)table)[s];
            if ((int64_t)e < 0) goto stop;
            used = (e >> 8) & 0xFF;
            uint64_t state_bits;
            if (place != HWGEN_PLACE_NONE) {
                /* The entry's bits right-aligned by one shift (64 - used: used > 0): its state
                   bits, then its raw bits. */
                const uint64_t entry_bits = bits >> (e & 63);
                state_bits = entry_bits >> raw_bits;
                raw = (uint32_t)(entry_bits & raw_mask);
            } else {
                /* The top nb bits are the state bits: shifted right by 64 - nb where nb > 0 for
                   every entry, else by one and then by 63 - nb (0 bits when nb is 0). */
                state_bits = coder == CODER_TANS_NO_ZERO ? bits >> (e & 63) : (bits >> 1) >> (e & 63);
            }
            s = ((e >> 16) & 0xFFFF) + state_bits;
            value = (uint32_t)(e >> 32);
        } else {
            const uint32_t e = ((const uint32_t *)table)[bits >> shift];
            if (e & 0x80) goto stop;
            used = e & 0xFF;
            value = e >> 8;
            /* The raw bits end the entry's `used` bits. */
            if (place != HWGEN_PLACE_NONE) raw = (uint32_t)((bits >> ((64 - used) & 63)) & raw_mask);
        }
        if (place != HWGEN_PLACE_NONE) value |= place == HWGEN_PLACE_BF16 ? bf16_raw_placed[raw & 0xFF] : raw;
        o[j] = value;
        bits <<= used;
        taken += used;
        continue;
    stop:
        *position += (int64_t)taken;
        *state = s;
        *out = o + j;
        return 0;
    }
    *position += (int64_t)taken;
    *state = s;
    *out = o + per_load;
    return 1;
}

/* The rounds with the four frames' cursors in locals (registers where they fit). */
ALWAYS_INLINE int64_t rounds4(hwgen_decode_frame frames[4], const void *table, const int per_load, const int raw_bits, const int place,
                              const int coder, const uint64_t shift, int64_t rounds) {
    const uint8_t *b0 = frames[0].base, *b1 = frames[1].base, *b2 = frames[2].base, *b3 = frames[3].base;
    int64_t p0 = frames[0].position, p1 = frames[1].position, p2 = frames[2].position, p3 = frames[3].position;
    uint64_t s0 = frames[0].state, s1 = frames[1].state, s2 = frames[2].state, s3 = frames[3].state;
    uint32_t *o0 = frames[0].out, *o1 = frames[1].out, *o2 = frames[2].out, *o3 = frames[3].out;
    int64_t done = 0;
    while (done < rounds
           && step(b0, &p0, &s0, &o0, table, per_load, raw_bits, place, coder, shift)
           && step(b1, &p1, &s1, &o1, table, per_load, raw_bits, place, coder, shift)
           && step(b2, &p2, &s2, &o2, table, per_load, raw_bits, place, coder, shift)
           && step(b3, &p3, &s3, &o3, table, per_load, raw_bits, place, coder, shift)) {
        done++;
    }
    frames[0].position = p0; frames[1].position = p1; frames[2].position = p2; frames[3].position = p3;
    frames[0].state = s0; frames[1].state = s1; frames[2].state = s2; frames[3].state = s3;
    frames[0].out = o0; frames[1].out = o1; frames[2].out = o2; frames[3].out = o3;
    return done;
}

/* One specialised loop per values-per-load for a coder and placement. */
#define PER_LOAD_CASES(CODER, PLACE, RAW)                                                   \
    switch (per_load) {                                                                     \
    case 1: return rounds4(frames, table, 1, RAW, PLACE, CODER, shift, rounds);             \
    case 2: return rounds4(frames, table, 2, RAW, PLACE, CODER, shift, rounds);             \
    case 3: return rounds4(frames, table, 3, RAW, PLACE, CODER, shift, rounds);             \
    case 4: return rounds4(frames, table, 4, RAW, PLACE, CODER, shift, rounds);             \
    case 5: return rounds4(frames, table, 5, RAW, PLACE, CODER, shift, rounds);             \
    case 6: return rounds4(frames, table, 6, RAW, PLACE, CODER, shift, rounds);             \
    case 7: return rounds4(frames, table, 7, RAW, PLACE, CODER, shift, rounds);             \
    default: return rounds4(frames, table, 8, RAW, PLACE, CODER, shift, rounds);            \
    }

#define DECODER(NAME, CODER)                                                                                       \
    static int64_t NAME##_none(hwgen_decode_frame frames[4], const void *table, int per_load, uint64_t shift,      \
                               int64_t rounds) {                                                                   \
        PER_LOAD_CASES(CODER, HWGEN_PLACE_NONE, 0)                                                                 \
    }                                                                                                              \
    static int64_t NAME##_low(hwgen_decode_frame frames[4], const void *table, int per_load, int raw_bits,         \
                              uint64_t shift, int64_t rounds) {                                                    \
        PER_LOAD_CASES(CODER, HWGEN_PLACE_LOW, raw_bits)                                                           \
    }                                                                                                              \
    static int64_t NAME##_bf16(hwgen_decode_frame frames[4], const void *table, int per_load, uint64_t shift,      \
                               int64_t rounds) {                                                                   \
        PER_LOAD_CASES(CODER, HWGEN_PLACE_BF16, 8)                                                                 \
    }

DECODER(tans, CODER_TANS)
DECODER(tans_no_zero, CODER_TANS_NO_ZERO)
DECODER(huffman, CODER_HUFFMAN)

int64_t hwgen_tans_decode4(hwgen_decode_frame frames[4], const uint64_t *table, int no_zero, int per_load, int raw_bits, int place, int64_t rounds) {
    if (per_load < 1 || rounds <= 0) return 0;  /* more than 8 a load: 8 (fewer is always safe) */
    if (no_zero) {
        switch (place) {
        case HWGEN_PLACE_NONE: return tans_no_zero_none(frames, table, per_load, 0, rounds);
        case HWGEN_PLACE_BF16: return tans_no_zero_bf16(frames, table, per_load, 0, rounds);
        default: return tans_no_zero_low(frames, table, per_load, raw_bits, 0, rounds);
        }
    }
    switch (place) {
    case HWGEN_PLACE_NONE: return tans_none(frames, table, per_load, 0, rounds);
    case HWGEN_PLACE_BF16: return tans_bf16(frames, table, per_load, 0, rounds);
    default: return tans_low(frames, table, per_load, raw_bits, 0, rounds);
    }
}

int64_t hwgen_huffman_decode4(hwgen_decode_frame frames[4], const uint32_t *table, int max_length, int per_load, int raw_bits, int place, int64_t rounds) {
    if (per_load < 1 || rounds <= 0 || max_length < 1 || max_length > 32) return 0;
    const uint64_t shift = (uint64_t)(64 - max_length);
    switch (place) {
    case HWGEN_PLACE_NONE: return huffman_none(frames, table, per_load, shift, rounds);
    case HWGEN_PLACE_BF16: return huffman_bf16(frames, table, per_load, shift, rounds);
    default: return huffman_low(frames, table, per_load, raw_bits, shift, rounds);
    }
}

/* One value's step of an encode frame (TANSReverseFrame.step), from its word in `table` (see
   ccodeckernels.h): its chunk put in front of the container's bits. */
ALWAYS_INLINE void encode_chunk(uint32_t value, uint64_t *container, int64_t *pending, uint64_t *x, const uint64_t *table, const uint16_t *states) {
    const uint64_t w = table[value];
    const int64_t state = (int64_t)*x;
    const int64_t nb = (state + ((int64_t)w >> 42)) >> 16;
    const uint64_t bits = (uint64_t)state & ((UINT64_C(1) << nb) - 1);
    *x = states[(state >> nb) + (int64_t)((w >> 24) & 0x3FFFF) - 0x10000];
    const uint64_t extra_bits = w & 0x3F;
    const uint64_t chunk = (bits << extra_bits) | ((w >> 6) & 0xFFFF);
    *container |= chunk << *pending;
    *pending += nb + (int64_t)extra_bits;
}

/* The step with TANSReverseFrame's flush: a word stored after every value (the container holds
   fewer than 32 bits between values); `*next` is the word after the next one to store. */
ALWAYS_INLINE void encode_value(uint32_t value, uint32_t **next, uint64_t *container, int64_t *pending, uint64_t *x,
                                const uint64_t *table, const uint16_t *states) {
    encode_chunk(value, container, pending, x, table, states);
    (*next)[-1] = __builtin_bswap32((uint32_t)*container);
    const int64_t full = *pending >> 5;
    *next -= full;
    *container >>= full << 5;
    *pending &= 31;
}

/* Stores the container's whole bytes in front of `*front` (8 bytes big-endian ending there:
   those past its whole bytes are stored again by the next flush) and keeps the rest (fewer
   than 8 bits). The container holds at most 63 bits. */
ALWAYS_INLINE void flush_bytes(uint8_t **front, uint64_t *container, int64_t *pending) {
    const uint64_t word = __builtin_bswap64(*container);
    memcpy(*front - 8, &word, 8);
    const int64_t bytes = *pending >> 3;
    *front -= bytes;
    *container >>= bytes << 3;
    *pending &= 7;
}

/* Back from a byte front to TANSReverseFrame's word form: the whole words from `front` on, the
   bytes before the first of them (ahead of `front`'s word boundary) back into the container. */
ALWAYS_INLINE void to_words(uint8_t *front, const uint32_t *words, int64_t *word_front, uint64_t *container, int64_t *pending) {
    const int64_t offset = front - (const uint8_t *)words;
    const int64_t partial = (4 - (offset & 3)) & 3;
    /* The partial word's final bytes are the stream's bits right after the container's. */
    uint64_t tail = 0;
    for (int64_t i = 0; i < partial; i++) tail = (tail << 8) | front[i];
    *container = (*container << (8 * partial)) | tail;
    *pending += 8 * partial;
    *word_front = (offset + partial) >> 2;
}

/* Two frames at a time, a value of each in turn; with `two_per_flush` (a constant where this
   is inlined), two values of each between flushes of whole bytes, else a word flushed after
   every value. */
ALWAYS_INLINE void encode_pair(hwgen_tans_encode_frame *a, hwgen_tans_encode_frame *b, const uint64_t *table, const uint16_t *states,
                               const int two_per_flush, int64_t rounds) {
    const uint32_t *va = a->values + a->count - rounds, *vb = b->values + b->count - rounds;
    uint64_t ca = a->container, cb = b->container, xa = a->x, xb = b->x;
    int64_t pa = a->pending, pb = b->pending;
    if (two_per_flush) {
        uint8_t *fa = (uint8_t *)(a->words + a->front), *fb = (uint8_t *)(b->words + b->front);
        /* Fewer than 8 bits pending before every pair of values. */
        flush_bytes(&fa, &ca, &pa);
        flush_bytes(&fb, &cb, &pb);
        int64_t i = rounds - 1;
        for (; i >= 1; i -= 2) {
            encode_chunk(va[i], &ca, &pa, &xa, table, states);
            encode_chunk(vb[i], &cb, &pb, &xb, table, states);
            encode_chunk(va[i - 1], &ca, &pa, &xa, table, states);
            encode_chunk(vb[i - 1], &cb, &pb, &xb, table, states);
            flush_bytes(&fa, &ca, &pa);
            flush_bytes(&fb, &cb, &pb);
        }
        if (i == 0) {
            encode_chunk(va[0], &ca, &pa, &xa, table, states);
            encode_chunk(vb[0], &cb, &pb, &xb, table, states);
            flush_bytes(&fa, &ca, &pa);
            flush_bytes(&fb, &cb, &pb);
        }
        to_words(fa, a->words, &a->front, &ca, &pa);
        to_words(fb, b->words, &b->front, &cb, &pb);
    } else {
        uint32_t *wa = a->words + a->front, *wb = b->words + b->front;
        for (int64_t i = rounds - 1; i >= 0; i--) {
            encode_value(va[i], &wa, &ca, &pa, &xa, table, states);
            encode_value(vb[i], &wb, &cb, &pb, &xb, table, states);
        }
        a->front = wa - a->words;
        b->front = wb - b->words;
    }
    a->count -= rounds;
    b->count -= rounds;
    a->x = xa;
    b->x = xb;
    a->container = ca;
    b->container = cb;
    a->pending = pa;
    b->pending = pb;
}

void hwgen_tans_encode4(hwgen_tans_encode_frame frames[4], const uint64_t *table, const uint16_t *states, int two_per_flush, int64_t rounds) {
    if (rounds <= 0) return;
    if (two_per_flush) {
        encode_pair(&frames[0], &frames[1], table, states, 1, rounds);
        encode_pair(&frames[2], &frames[3], table, states, 1, rounds);
    } else {
        encode_pair(&frames[0], &frames[1], table, states, 0, rounds);
        encode_pair(&frames[2], &frames[3], table, states, 0, rounds);
    }
}
