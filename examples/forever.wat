;; A module that never returns on its own: for trying the limits of `purewasm run -W`
;; (docs/guide/cli.md):  purewasm run -W fuel=100000 --invoke spin examples/forever.wat
(module
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "crash") unreachable))
