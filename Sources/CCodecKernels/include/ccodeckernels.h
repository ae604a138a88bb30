#ifndef HWGEN_CCODECKERNELS_H
#define HWGEN_CCODECKERNELS_H
#include <stdint.h>

/* Inner loops of Codec's software coders in C, where Swift's code generation measurably falls
   short (docs/BENCHMARKS.md, session 20). Each is the exact twin of a Swift loop that stays the
   checked definition; Codec's tests and fuzzers run both on the same inputs. The callers check
   every bound before a call: these loops read and write only where they are told they may. */

/* One frame of the four-frame decode loops: its bytes, the bit position of its next entry, its
   state (tANS: 0 to 2^tableLog - 1) and where its next value goes. */
typedef struct {
    const uint8_t *base;
    int64_t position;
    uint64_t state;
    uint32_t *out;
} hwgen_decode_frame;

/* How a value is rebuilt from its symbol's placed bits and its raw bits. */
enum {
    HWGEN_PLACE_NONE = 0,  /* no raw bits */
    HWGEN_PLACE_LOW = 1,   /* the raw bits are the value's low bits (split) */
    HWGEN_PLACE_BF16 = 2   /* 8 raw bits: bit 7 is the sign (to bit 15), bits 0-6 the mantissa */
};

/* Up to `rounds` rounds of tANS decoding over four frames; in a round each frame in turn takes
   `per_load` values (1 to 8) from one 64-bit load at its position. `table` holds a word per
   state: bits 0-7 a shift count (with raw bits: 64 - the bits the entry reads, leaving them
   right-aligned; without: 64 - nb, leaving its nb state bits, where `no_zero` says no direct
   entry has nb = 0, else 63 - nb after a shift by one), bits 8-15 the bits it reads
   (state bits and `raw_bits` raw bits), bits 16-31 the next state's base, bits 32-62 the value
   with the symbol's bits placed, bit 63 set where the entry is no direct symbol (ESC, EOF).
   Stops before the first entry with bit 63 (that frame's earlier values in the round are taken,
   the frames after it are not stepped) and returns the rounds completed: `rounds` when none
   stopped. The caller guarantees that `rounds` rounds of loads lie inside every frame's bytes
   (8 readable bytes at each position / 8) and that every frame's output has room for them. */
int64_t hwgen_tans_decode4(hwgen_decode_frame frames[4], const uint64_t *table, int no_zero, int per_load, int raw_bits, int place, int64_t rounds);

/* The same rounds for Huffman: each value looks up the next `max_length` bits (1 to 32) in
   `table`, a word per pattern: bits 0-5 the bits the value reads (its code and `raw_bits` raw
   bits), bit 7 set where the pattern starts no direct symbol's code (ESC, EOF, no code), bits
   8-31 the value with the symbol's bits placed. */
int64_t hwgen_huffman_decode4(hwgen_decode_frame frames[4], const uint32_t *table, int max_length, int per_load, int raw_bits, int place, int64_t rounds);

/* One frame of the four-frame tANS encode, coded backwards (TANSReverseFrame's fields): the
   values not yet coded are values[0 ..< count] (the last first); words are stored big-endian
   backwards from words[front - 1]; `container` holds `pending` (< 32) bits not yet whole words;
   `x` is the encoder state in [T, 2T). */
typedef struct {
    const uint32_t *values;
    int64_t count;
    uint32_t *words;
    int64_t front;
    uint64_t container;
    int64_t pending;
    uint64_t x;
} hwgen_tans_encode_frame;

/* Codes the last `rounds` values of each of four frames: frames 0 and 1 a value of each in
   turn, then frames 2 and 3 (two state chains overlap; four would spill registers). `table` has
   a word per value: the bits it adds after its state bits (raw bits, or ESC's literal and raw
   bits) in bits 6-21 and how many in 0-5, and its entry's step: deltaState + 2^16 in bits 24-41
   and deltaBits (signed) in 42-63 (nb = (X + deltaBits) >> 16, the next X is
   states[(X >> nb) + deltaState]). With `two_per_flush` (every value adds at most 28 bits) the
   frames store whole bytes after every two values, else a word after every value. The caller
   guarantees rounds <= every count, values inside `table`, and room for the words and 8 bytes
   in front of them. */
void hwgen_tans_encode4(hwgen_tans_encode_frame frames[4], const uint64_t *table, const uint16_t *states, int two_per_flush, int64_t rounds);

#endif
