/* A switch-based bytecode interpreter (a dense 48-case switch: br_table with many
   targets and deeply nested blocks) running small programs: loops, calls, a sieve,
   recursive fib, string hashing. The program is assembled at run time. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum op {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_ROT, OP_ADD, OP_SUB, OP_MUL,
    OP_DIV, OP_MOD, OP_NEG, OP_AND, OP_OR, OP_XOR, OP_NOT, OP_SHL, OP_SHR, OP_SAR,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ULT, OP_JMP, OP_JZ, OP_JNZ,
    OP_CALL, OP_RET, OP_LOAD, OP_STORE, OP_LOADB, OP_STOREB, OP_GETL, OP_SETL, OP_INC, OP_DEC,
    OP_PRINT, OP_PRINTC, OP_MIN, OP_MAX, OP_ABS, OP_ROTL, OP_POPCNT, OP_NOP,
    OP_COUNT
};

#define MEMSIZE 8192
typedef struct {
    int64_t stack[256];
    int sp;
    int rstack[64][2];   /* return pc, frame base */
    int rsp;
    int64_t locals[64 * 8];
    uint8_t mem[MEMSIZE];
    long steps;
    uint64_t outhash;
} vm;

static void out(vm *m, int64_t v, int as_char) {
    m->outhash = (m->outhash ^ (uint64_t)v) * 0x100000001b3ull;
    if (as_char) putchar((int)v); else printf("%lld ", (long long)v);
}

static int run(vm *m, const int32_t *code) {
    int pc = 0, fb = 0;
    int64_t a, b;
    m->sp = 0; m->rsp = 0;
    for (;;) {
        int32_t ins = code[pc++];
        m->steps++;
        switch ((enum op)(ins & 0xff)) {
        case OP_HALT: return 0;
        case OP_PUSH: m->stack[m->sp++] = code[pc++]; break;
        case OP_POP: m->sp--; break;
        case OP_DUP: m->stack[m->sp] = m->stack[m->sp - 1]; m->sp++; break;
        case OP_SWAP: a = m->stack[m->sp - 1]; m->stack[m->sp - 1] = m->stack[m->sp - 2]; m->stack[m->sp - 2] = a; break;
        case OP_OVER: m->stack[m->sp] = m->stack[m->sp - 2]; m->sp++; break;
        case OP_ROT: a = m->stack[m->sp - 3]; m->stack[m->sp - 3] = m->stack[m->sp - 2];
                     m->stack[m->sp - 2] = m->stack[m->sp - 1]; m->stack[m->sp - 1] = a; break;
#define BIN(OP, EXPR) case OP: b = m->stack[--m->sp]; a = m->stack[m->sp - 1]; m->stack[m->sp - 1] = (EXPR); break;
        BIN(OP_ADD, (int64_t)((uint64_t)a + (uint64_t)b))
        BIN(OP_SUB, (int64_t)((uint64_t)a - (uint64_t)b))
        BIN(OP_MUL, (int64_t)((uint64_t)a * (uint64_t)b))
        BIN(OP_DIV, b == 0 || (b == -1 && a == INT64_MIN) ? 0 : a / b)
        BIN(OP_MOD, b == 0 || b == -1 ? 0 : a % b)
        BIN(OP_AND, a & b)
        BIN(OP_OR, a | b)
        BIN(OP_XOR, a ^ b)
        BIN(OP_SHL, (int64_t)((uint64_t)a << (b & 63)))
        BIN(OP_SHR, (int64_t)((uint64_t)a >> (b & 63)))
        BIN(OP_SAR, a >> (b & 63))
        BIN(OP_EQ, a == b)
        BIN(OP_NE, a != b)
        BIN(OP_LT, a < b)
        BIN(OP_LE, a <= b)
        BIN(OP_GT, a > b)
        BIN(OP_GE, a >= b)
        BIN(OP_ULT, (uint64_t)a < (uint64_t)b)
        BIN(OP_MIN, a < b ? a : b)
        BIN(OP_MAX, a > b ? a : b)
        BIN(OP_ROTL, (int64_t)(((uint64_t)a << (b & 63)) | ((uint64_t)a >> ((64 - (b & 63)) & 63))))
        case OP_NEG: m->stack[m->sp - 1] = (int64_t)(0 - (uint64_t)m->stack[m->sp - 1]); break;
        case OP_NOT: m->stack[m->sp - 1] = ~m->stack[m->sp - 1]; break;
        case OP_ABS: a = m->stack[m->sp - 1]; m->stack[m->sp - 1] = a < 0 ? (int64_t)(0 - (uint64_t)a) : a; break;
        case OP_POPCNT: m->stack[m->sp - 1] = __builtin_popcountll((uint64_t)m->stack[m->sp - 1]); break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: if (!m->stack[--m->sp]) pc = code[pc]; else pc++; break;
        case OP_JNZ: if (m->stack[--m->sp]) pc = code[pc]; else pc++; break;
        case OP_CALL:
            m->rstack[m->rsp][0] = pc + 1; m->rstack[m->rsp][1] = fb; m->rsp++;
            fb += 8; pc = code[pc];
            m->locals[fb] = m->stack[--m->sp];   /* one argument into local 0 */
            break;
        case OP_RET: m->rsp--; pc = m->rstack[m->rsp][0]; fb = m->rstack[m->rsp][1]; break;
        case OP_LOAD: a = m->stack[m->sp - 1] & (MEMSIZE / 8 - 1); memcpy(&m->stack[m->sp - 1], m->mem + a * 8, 8); break;
        case OP_STORE: b = m->stack[--m->sp]; a = m->stack[--m->sp] & (MEMSIZE / 8 - 1); memcpy(m->mem + a * 8, &b, 8); break;
        case OP_LOADB: m->stack[m->sp - 1] = m->mem[m->stack[m->sp - 1] & (MEMSIZE - 1)]; break;
        case OP_STOREB: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->mem[a & (MEMSIZE - 1)] = (uint8_t)b; break;
        case OP_GETL: m->stack[m->sp++] = m->locals[fb + code[pc++]]; break;
        case OP_SETL: m->locals[fb + code[pc++]] = m->stack[--m->sp]; break;
        case OP_INC: m->locals[fb + code[pc++]]++; break;
        case OP_DEC: m->locals[fb + code[pc++]]--; break;
        case OP_PRINT: out(m, m->stack[--m->sp], 0); break;
        case OP_PRINTC: out(m, m->stack[--m->sp], 1); break;
        case OP_NOP: break;
        default: printf("bad opcode %d at %d\n", ins, pc - 1); return 1;
        }
    }
}

/* a tiny assembler with labels */
typedef struct { int32_t code[4096]; int n; int labels[64]; int fix[256][2]; int nfix; } assembler;
static void emit(assembler *as, int32_t v) { as->code[as->n++] = v; }
static void op1(assembler *as, enum op o, int32_t imm) { emit(as, o); emit(as, imm); }
static void label(assembler *as, int l) { as->labels[l] = as->n; }
static void jump(assembler *as, enum op o, int l) { emit(as, o); as->fix[as->nfix][0] = as->n; as->fix[as->nfix++][1] = l; emit(as, 0); }
static void link(assembler *as) { int i; for (i = 0; i < as->nfix; i++) as->code[as->fix[i][0]] = as->labels[as->fix[i][1]]; }

static vm machine;

int main(void) {
    assembler as;
    int i;
    memset(&as, 0, sizeof as);
    /* main: fib(1..15) via recursive call, printing each */
    op1(&as, OP_PUSH, 1); op1(&as, OP_SETL, 1);
    label(&as, 0);
    op1(&as, OP_GETL, 1); jump(&as, OP_CALL, 10); emit(&as, OP_PRINT);
    op1(&as, OP_INC, 1); op1(&as, OP_GETL, 1); op1(&as, OP_PUSH, 16); emit(&as, OP_LT); jump(&as, OP_JNZ, 0);
    op1(&as, OP_PUSH, '\n'); emit(&as, OP_PRINTC);
    /* sieve of Eratosthenes in byte memory up to 3000, print count and last prime */
    op1(&as, OP_PUSH, 2); op1(&as, OP_SETL, 2);
    label(&as, 1);
    op1(&as, OP_GETL, 2); emit(&as, OP_LOADB); jump(&as, OP_JNZ, 3);
    op1(&as, OP_GETL, 2); op1(&as, OP_GETL, 2); emit(&as, OP_MUL); op1(&as, OP_SETL, 3);
    label(&as, 2);
    op1(&as, OP_GETL, 3); op1(&as, OP_PUSH, 3000); emit(&as, OP_GE); jump(&as, OP_JNZ, 3);
    op1(&as, OP_GETL, 3); op1(&as, OP_PUSH, 1); emit(&as, OP_STOREB);
    op1(&as, OP_GETL, 3); op1(&as, OP_GETL, 2); emit(&as, OP_ADD); op1(&as, OP_SETL, 3); jump(&as, OP_JMP, 2);
    label(&as, 3);
    op1(&as, OP_INC, 2); op1(&as, OP_GETL, 2); op1(&as, OP_PUSH, 3000); emit(&as, OP_LT); jump(&as, OP_JNZ, 1);
    op1(&as, OP_PUSH, 0); op1(&as, OP_SETL, 4); op1(&as, OP_PUSH, 2); op1(&as, OP_SETL, 2);
    label(&as, 4);
    op1(&as, OP_GETL, 2); emit(&as, OP_LOADB); jump(&as, OP_JNZ, 5);
    op1(&as, OP_INC, 4); op1(&as, OP_GETL, 2); op1(&as, OP_SETL, 5);
    label(&as, 5);
    op1(&as, OP_INC, 2); op1(&as, OP_GETL, 2); op1(&as, OP_PUSH, 3000); emit(&as, OP_LT); jump(&as, OP_JNZ, 4);
    op1(&as, OP_GETL, 4); emit(&as, OP_PRINT); op1(&as, OP_GETL, 5); emit(&as, OP_PRINT);
    /* a mixing loop using every arithmetic/bit op, 800 rounds */
    op1(&as, OP_PUSH, 0x1234567); op1(&as, OP_SETL, 6); op1(&as, OP_PUSH, 0); op1(&as, OP_SETL, 7);
    label(&as, 6);
    op1(&as, OP_GETL, 6); op1(&as, OP_PUSH, 13); emit(&as, OP_ROTL); op1(&as, OP_PUSH, 0x5bd1e995); emit(&as, OP_MUL);
    op1(&as, OP_GETL, 7); emit(&as, OP_XOR); emit(&as, OP_DUP); op1(&as, OP_PUSH, 7); emit(&as, OP_SAR);
    emit(&as, OP_SWAP); op1(&as, OP_PUSH, 3); emit(&as, OP_SHL); emit(&as, OP_SUB);
    emit(&as, OP_DUP); emit(&as, OP_POPCNT); emit(&as, OP_ADD); emit(&as, OP_DUP); op1(&as, OP_PUSH, 1000003); emit(&as, OP_MOD);
    emit(&as, OP_ABS); op1(&as, OP_PUSH, 999); emit(&as, OP_MIN); emit(&as, OP_OVER); emit(&as, OP_NOT); emit(&as, OP_NEG);
    emit(&as, OP_ROT); emit(&as, OP_OR); emit(&as, OP_AND); op1(&as, OP_PUSH, 17); emit(&as, OP_DIV); emit(&as, OP_NOP);
    op1(&as, OP_GETL, 6); emit(&as, OP_ADD); op1(&as, OP_SETL, 6);
    op1(&as, OP_GETL, 7); op1(&as, OP_GETL, 6); emit(&as, OP_STORE);
    op1(&as, OP_INC, 7); op1(&as, OP_GETL, 7); op1(&as, OP_PUSH, 800); emit(&as, OP_ULT); jump(&as, OP_JNZ, 6);
    op1(&as, OP_GETL, 6); emit(&as, OP_PRINT); op1(&as, OP_PUSH, 77); emit(&as, OP_LOAD); emit(&as, OP_PRINT);
    op1(&as, OP_PUSH, -5); op1(&as, OP_PUSH, 3); emit(&as, OP_MAX); op1(&as, OP_PUSH, 2); emit(&as, OP_LE);
    op1(&as, OP_PUSH, 4); op1(&as, OP_PUSH, 4); emit(&as, OP_NE); emit(&as, OP_EQ); op1(&as, OP_PUSH, 9); emit(&as, OP_GT);
    op1(&as, OP_PUSH, 9); op1(&as, OP_PUSH, 1); emit(&as, OP_SHR); emit(&as, OP_POP); emit(&as, OP_PRINT);
    emit(&as, OP_HALT);
    /* fib(n): if n < 2 return n; return fib(n-1) + fib(n-2) */
    label(&as, 10);
    op1(&as, OP_GETL, 0); op1(&as, OP_PUSH, 2); emit(&as, OP_LT); jump(&as, OP_JZ, 11);
    op1(&as, OP_GETL, 0); emit(&as, OP_RET);
    label(&as, 11);
    op1(&as, OP_GETL, 0); op1(&as, OP_PUSH, 1); emit(&as, OP_SUB); jump(&as, OP_CALL, 10);
    op1(&as, OP_GETL, 0); op1(&as, OP_PUSH, 2); emit(&as, OP_SUB); jump(&as, OP_CALL, 10);
    emit(&as, OP_ADD); emit(&as, OP_RET);
    link(&as);
    for (i = 0; i < 2; i++) {
        memset(machine.mem, 0, sizeof machine.mem);
        if (run(&machine, as.code)) return 1;
        printf("\nrun %d: steps %ld hash %016llx\n", i, machine.steps, (unsigned long long)machine.outhash);
    }
    {   /* an invalid opcode reaches the default case */
        int32_t bad[] = {OP_PUSH, 1, OP_COUNT + 3};
        printf("bad program returns %d\n", run(&machine, bad));
    }
    return 0;
}
