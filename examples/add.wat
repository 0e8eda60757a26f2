;; The README's first embedding example: add two i32s.
;; Rebuild the binary with:  wat2wasm examples/add.wat -o examples/add.wasm
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
