/* Reset, traps and semihosting for the C firmware on Cortex-M (QEMU microbit
   and mps2-an386) and RISC-V (QEMU virt, -bios none): copy .data, zero .bss,
   run main, exit QEMU with main's verdict. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);

/* SYS_EXIT's reasons: QEMU exits 0 for ApplicationExit, 1 otherwise. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

#if defined(__arm__)
static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#elif defined(__riscv)
/* RISC-V semihosting: EBREAK between two marker instructions, which must be
   uncompressed and in one page (hence the alignment). */
static int semihost(int op, const void *arg) {
    register int a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n.option norvc\n.balign 16\n"
                     "slli x0, x0, 0x1f\nebreak\nsrai x0, x0, 7\n.option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
}
#else
#error "startup.c knows Cortex-M and RISC-V"
#endif

void say(const char *text) { semihost(0x04 /* SYS_WRITE0 */, text); }

void finish(int ok) {
    semihost(0x18 /* SYS_EXIT */,
             (const void *)(uintptr_t)(ok ? ADP_STOPPED_APPLICATION_EXIT
                                          : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}

/* Called with a stack: the C half of reset. */
void start(void) {
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;) *dst++ = 0;
    finish(main() == 0);
}

/* Any fault or trap ends the run as a failure. mtvec needs 4-byte alignment. */
__attribute__((aligned(4), used)) void fault_handler(void) {
    say("FAULT\n");
    finish(0);
}

#if defined(__arm__)
/* The core loads the stack pointer from the vector table itself. */
void reset_handler(void) { start(); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))_estack, reset_handler, fault_handler, fault_handler,
    fault_handler,          fault_handler, fault_handler, 0,
    0,                      0,             0,             fault_handler,
    fault_handler,          0,             fault_handler, fault_handler,
};
#else
/* First in flash (QEMU starts at the start of RAM): stack, trap vector. */
__asm__(".section .vectors, \"ax\"\n"
        ".globl reset_handler\n"
        "reset_handler:\n"
        "  la sp, _estack\n"
        "  la t0, fault_handler\n"
        "  csrw mtvec, t0\n"
        "  j start\n");
#endif
