/* Included (-include) before every file of Lua 5.4's onelua.c for wasm32-wasi.
 * wasm32-wasi has no setjmp/longjmp without the exception-handling proposal, which
 * purewasm does not implement yet: a Lua error is reported and ends the program (exit
 * status 3) instead of unwinding to pcall. The scripts we run raise no error. */
#ifndef PUREWASM_LUA_WASI_H
#define PUREWASM_LUA_WASI_H
struct lua_State;
_Noreturn void purewasm_lua_throw(struct lua_State *L);
#define LUAI_THROW(L, c) purewasm_lua_throw(L)
#define LUAI_TRY(L, c, a) { a }
#define luai_jmpbuf int
#define l_system(cmd) ((cmd) == NULL ? 0 : -1)
#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) { e = 1; }
#endif
