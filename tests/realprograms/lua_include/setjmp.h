/* Stands in for wasi-libc's <setjmp.h>, which refuses to compile without the Wasm
 * exception-handling proposal; Lua's ldo.c includes it but lua_wasi.h needs nothing
 * from it. */
