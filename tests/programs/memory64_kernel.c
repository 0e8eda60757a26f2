/* A freestanding wasm64 program (zig cc -target wasm64-freestanding): 64-bit pointers,
 * size_t and memory.size/grow in i64. tests/test_memory64.py runs it on purewasm and on
 * wasmtime and compares every result (zig has no WASI libc for wasm64). */
typedef unsigned long long u64;
typedef unsigned char u8;

static u8 heap[1 << 17];
static u64 state;

static u64 next(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
}

u64 fill(u64 n, u64 seed) {
    state = seed;
    for (u64 i = 0; i < n; i++) heap[i] = (u8)next();
    return n;
}

u64 checksum(u64 start, u64 n) {        /* FNV-1a */
    u64 h = 1469598103934665603ULL;
    for (u64 i = start; i < start + n; i++) h = (h ^ heap[i]) * 1099511628211ULL;
    return h;
}

u64 sort_bytes(u64 n) {                 /* counting sort, then the checksum */
    u64 counts[256] = {0};
    for (u64 i = 0; i < n; i++) counts[heap[i]]++;
    u64 k = 0;
    for (u64 b = 0; b < 256; b++)
        for (u64 c = 0; c < counts[b]; c++) heap[k++] = (u8)b;
    return checksum(0, n);
}

u64 move(u64 dst, u64 src, u64 n) {
    __builtin_memmove(heap + dst, heap + src, n);
    return checksum(0, dst + n);
}

u64 heap_address(void) { return (u64)(unsigned long)heap; }
u64 pages(void) { return __builtin_wasm_memory_size(0); }
u64 grow(u64 delta) { return __builtin_wasm_memory_grow(0, delta); }
u64 load_at(u64 address) { return *(volatile u8 *)(unsigned long)address; }
void store_at(u64 address, u64 value) { *(volatile u8 *)(unsigned long)address = (u8)value; }
