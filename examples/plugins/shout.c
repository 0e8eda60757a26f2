/* A purewasm plugin written in C: text in, text out, through the guest's linear memory.
 *
 * The plugin ABI (examples/plugin_host.py is the host):
 *   plugin_alloc(size) -> ptr      the host asks for a buffer to write its input into
 *   plugin_free(ptr)               the host gives back a buffer it got from the plugin
 *   plugin_name() -> ptr           a NUL-terminated UTF-8 name
 *   plugin_run(ptr, len) -> ptr    process len bytes of UTF-8 text at ptr; the result is a
 *                                  buffer [u32 little-endian length][bytes] to plugin_free
 * and the plugin may call the host's
 *   host.log(ptr, len)             a UTF-8 message for the host's log
 *
 * Build (committed as shout.wasm; tests/test_examples.py checks it is up to date):
 *   python -m ziglang cc -target wasm32-wasi -mexec-model=reactor -O2 -s \
 *       -Wl,-z,stack-size=65536 -o shout.wasm shout.c
 * (a reactor: no main, "_initialize" runs the constructors; a 64 KiB stack instead of
 * zig's default 16 MiB keeps the plugin's memory at two pages)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("host"), import_name("log")))
void host_log(const char *message, uint32_t length);

static void log_text(const char *message) { host_log(message, (uint32_t)strlen(message)); }

__attribute__((export_name("plugin_alloc")))
void *plugin_alloc(uint32_t size) { return malloc(size ? size : 1); }

__attribute__((export_name("plugin_free")))
void plugin_free(void *ptr) { free(ptr); }

__attribute__((export_name("plugin_name")))
const char *plugin_name(void) { return "shout"; }

/* Upper-cases ASCII letters (other UTF-8 bytes pass through) and appends "!" to every
 * sentence end ('.' becomes '!'); reports the number of words to the host. */
__attribute__((export_name("plugin_run")))
uint8_t *plugin_run(const uint8_t *text, uint32_t length) {
    uint8_t *out = malloc(4 + length);
    if (out == NULL) {
        log_text("out of memory");
        return NULL;
    }
    uint32_t words = 0;
    int in_word = 0;
    for (uint32_t i = 0; i < length; i++) {
        uint8_t c = text[i];
        int space = (c == ' ' || c == '\n' || c == '\t');
        if (!space && !in_word) words++;
        in_word = !space;
        if (c >= 'a' && c <= 'z') c = (uint8_t)(c - 'a' + 'A');
        if (c == '.') c = '!';
        out[4 + i] = c;
    }
    memcpy(out, &length, 4);   /* wasm32 is little-endian */
    char message[48];
    /* no printf: keeps the plugin free of WASI imports */
    char digits[12];
    int n = 0;
    do { digits[n++] = (char)('0' + words % 10); words /= 10; } while (words);
    int m = 0;
    const char *prefix = "words: ";
    while (*prefix) message[m++] = *prefix++;
    while (n) message[m++] = digits[--n];
    message[m] = 0;
    log_text(message);
    return out;
}
