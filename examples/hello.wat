;; Hello World through WASI fd_write.
;; Run it:  purewasm run examples/hello.wat   (or examples/hello.wasm)
;; Rebuild the binary with:  wat2wasm examples/hello.wat -o examples/hello.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; The iovec at offset 0: pointer 8, length 13; the text at offset 8.
  (data (i32.const 0) "\08\00\00\00\0d\00\00\00")
  (data (i32.const 8) "Hello, World\n")
  (func (export "_start")
    ;; fd 1 (stdout), 1 iovec at 0, bytes written stored at 24
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 24)))))
