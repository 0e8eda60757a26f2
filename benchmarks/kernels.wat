;; The micro-benchmark kernels (benchmarks/run.py). Each kernel's dynamic instruction count
;; is computed by a Python model in run.py (every executed instruction counts, including
;; block/loop/if/br*, except `end` and `else`).
(module
  (memory 2)

  ;; 1. recursive calls
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32)
      local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib
      i32.add
    end)

  ;; 2. nested integer loops with i64 arithmetic
  (func (export "loops") (param i32) (result i64) (local i32 i32 i64)
    loop $outer
      i32.const 0 local.set 2
      loop $inner
        local.get 3 local.get 1 i64.extend_i32_u local.get 2 i64.extend_i32_u i64.mul
        i64.add i64.const 0x9E3779B97F4A7C15 i64.xor i64.const 1 i64.rotl local.set 3
        local.get 2 i32.const 1 i32.add local.tee 2 local.get 0 i32.lt_u br_if $inner
      end
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $outer
    end
    local.get 3)

  ;; 3. sieve of Eratosthenes over linear memory: primes below n (n <= 131072)
  (func (export "sieve") (param i32) (result i32) (local i32 i32 i32)
    i32.const 0 i32.const 0 local.get 0 memory.fill
    i32.const 2 local.set 1
    loop $outer
      local.get 1 i32.load8_u
      i32.eqz
      if
        local.get 3 i32.const 1 i32.add local.set 3
        local.get 1 local.get 1 i32.mul local.set 2
        block $done
          loop $mark
            local.get 2 local.get 0 i32.ge_u br_if $done
            local.get 2 i32.const 1 i32.store8
            local.get 2 local.get 1 i32.add local.set 2
            br $mark
          end
        end
      end
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $outer
    end
    local.get 3)

  ;; 4. an f64 loop (Leibniz series for pi)
  (func (export "leibniz") (param i32) (result f64) (local i32 f64 f64)
    f64.const 1 local.set 3
    loop
      local.get 2 local.get 3
      local.get 1 f64.convert_i32_u f64.const 2 f64.mul f64.const 1 f64.add
      f64.div f64.add local.set 2
      local.get 3 f64.neg local.set 3
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
    end
    local.get 2 f64.const 4 f64.mul)

  ;; 5. a br_table state machine
  (func (export "states") (param i32) (result i32) (local i32 i32)
    loop $top
      block $next
        block $s3 block $s2 block $s1 block $s0
          local.get 1 br_table $s0 $s1 $s2 $s3
        end
        local.get 2 i32.const 3 i32.add local.set 2 i32.const 1 local.set 1 br $next
        end
        local.get 2 i32.const 0x55 i32.xor local.set 2 i32.const 2 local.set 1 br $next
        end
        local.get 2 i32.const 3 i32.mul local.set 2
        local.get 2 i32.const 1 i32.and i32.const 3 i32.mul local.set 1 br $next
        end
        local.get 2 i32.const 1 i32.sub local.set 2 i32.const 0 local.set 1
      end
      local.get 0 i32.const 1 i32.sub local.tee 0 br_if $top
    end
    local.get 2)
)
