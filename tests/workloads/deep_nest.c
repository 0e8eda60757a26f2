/* Shapes that stress a Wasm-to-Python translator, as compilers emit them from
   macro-generated code: a 256-deep chain of nested ifs, 32 statically nested loops,
   a 1024-case switch (br_table over 1024 nested blocks), Duff's device, and
   non-tail recursion as deep as argv[1] asks (default 5000). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned trip[8] = {1, 1, 2, 1, 1, 1, 2, 1};
static unsigned lv;

__attribute__((noinline)) static uint32_t mix(uint32_t x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

/* ---- 256 nested ifs, each with work before and after the inner one ---- */
#define IF1(b) { uint32_t t = mix(k++); if (t & 127) { acc = acc * 33 + t; b acc ^= t >> 3; } else { acc += 7; } }
/* composition adds depths: IF4 is 4 deep, IF16 16, IF64 64, IF256 256 (512 makes
   wasmtime's compile of this function take seconds) */
#define IF4(b) IF1(IF1(IF1(IF1(b))))
#define IF16(b) IF4(IF4(IF4(IF4(b))))
#define IF64(b) IF16(IF16(IF16(IF16(b))))
#define IF256(b) IF64(IF64(IF64(IF64(b))))
__attribute__((noinline)) static uint32_t deep_ifs(uint32_t k) {
    uint32_t acc = 1;
    IF256(acc += 1000000;)
    return acc ^ k;
}

/* ---- 32 statically nested loops ---- */
#define LOOP1(b) for (unsigned j = 0; j < trip[(lv++) & 7]; j++) { acc = acc * 3 + j; b }
#define LOOP4(b) LOOP1(LOOP1(LOOP1(LOOP1(b))))
#define LOOP32(b) LOOP4(LOOP4(LOOP4(LOOP4(LOOP4(LOOP4(LOOP4(LOOP4(b))))))))
__attribute__((noinline)) static uint32_t deep_loops(uint32_t acc) {
    lv = 0;
    LOOP32(acc ^= lv;)
    return acc + lv;
}

/* ---- a 1024-case switch whose cases differ in shape (no lookup table) ---- */
#define C1(n) case (n): acc = (acc << ((n) % 29 + 1) | acc >> (31 - (n) % 29)) ^ (n); break;
#define C2(n) case (n): acc = acc * ((n) | 1) + mix(acc ^ (n)); break;
#define C4(n) C1(n) C2((n) + 1) C1((n) + 2) case (n) + 3: acc = acc / ((n) + 3) + (n); break;
#define C16(n) C4(n) C4((n) + 4) C4((n) + 8) C4((n) + 12)
#define C64(n) C16(n) C16((n) + 16) C16((n) + 32) C16((n) + 48)
#define C256(n) C64(n) C64((n) + 64) C64((n) + 128) C64((n) + 192)
__attribute__((noinline)) static uint32_t big_switch(uint32_t acc, unsigned rounds) {
    unsigned r;
    for (r = 0; r < rounds; r++) {
        switch (mix(acc + r) % 1030) {   /* 1024..1029 take the default */
            C256(0) C256(256) C256(512) C256(768)
        default: acc = ~acc; break;
        }
    }
    return acc;
}

/* ---- Duff's device: a switch jumping into a loop body ---- */
__attribute__((noinline)) static void duff_copy(unsigned char *to, const unsigned char *from, unsigned count) {
    unsigned n = (count + 7) / 8;
    if (!count) return;
    switch (count % 8) {
    case 0: do { *to++ = *from++;
    case 7:      *to++ = *from++;
    case 6:      *to++ = *from++;
    case 5:      *to++ = *from++;
    case 4:      *to++ = *from++;
    case 3:      *to++ = *from++;
    case 2:      *to++ = *from++;
    case 1:      *to++ = *from++;
            } while (--n > 0);
    }
}

/* ---- deep recursion that the optimiser cannot turn into a loop ---- */
__attribute__((noinline)) static unsigned recurse(unsigned n) {
    return n == 0 ? 0 : 1 + recurse(n - 1) * 3 % 1000003u;
}

int main(int argc, char **argv) {
    unsigned depth = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5000;
    uint32_t h = 0;
    unsigned i;
    unsigned char src[310], dst[300];
    for (i = 0; i < 40; i++) {
        uint32_t v = deep_ifs(i * 7919);
        h = h * 31 + v;
        if (i < 4) printf("deep_ifs(%u) = %08x\n", i * 7919, v);
    }
    printf("deep_ifs hash %08x\n", h);
    for (i = 0; i < 3; i++) printf("deep_loops(%u) = %08x\n", i, deep_loops(i));
    printf("big_switch = %08x %08x\n", big_switch(1, 3000), big_switch(0xdeadbeef, 1000));
    for (i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 37 + 11);
    h = 0;
    for (i = 0; i < sizeof dst; i += 13) {   /* reads src[0 .. i + 6] */
        unsigned j;
        for (j = 0; j < sizeof dst; j++) dst[j] = 0;
        duff_copy(dst, src + (i % 7), i);
        for (j = 0; j < sizeof dst; j++) h = h * 33 + dst[j];
    }
    printf("duff hash %08x\n", h);
    printf("recurse(%u) = %u\n", depth, recurse(depth));
    return 0;
}
