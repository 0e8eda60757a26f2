/* The LUAI_THROW of lua_wasi.h: print the error value and exit with status 3. */
#include <stdio.h>
#include <stdlib.h>
#include "lua.h"

_Noreturn void purewasm_lua_throw(struct lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "lua: error (no unwinding on wasm32-wasi): %s\n", msg ? msg : "(not a string)");
  fflush(stdout);
  exit(3);
}

/* wasi-libc declares tmpfile but has none (liolib's io.tmpfile uses it): fail cleanly. */
#include <errno.h>
FILE *tmpfile(void) {
  errno = ENOTSUP;
  return NULL;
}
