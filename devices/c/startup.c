/* Reset, vector table and semihosting for the C firmware on Cortex-M
   (QEMU microbit and mps2-an386): copy .data, zero .bss, run main, exit
   QEMU with main's verdict. */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);

/* SYS_EXIT's reasons: QEMU exits 0 for ApplicationExit, 1 otherwise. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void say(const char *text) { semihost(0x04 /* SYS_WRITE0 */, text); }

void finish(int ok) {
    semihost(0x18 /* SYS_EXIT */,
             (const void *)(uintptr_t)(ok ? ADP_STOPPED_APPLICATION_EXIT
                                          : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}

void reset_handler(void) {
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;) *dst++ = 0;
    finish(main() == 0);
}

static void fault_handler(void) {
    say("FAULT\n");
    finish(0);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))_estack, reset_handler, fault_handler, fault_handler,
    fault_handler,          fault_handler, fault_handler, 0,
    0,                      0,             0,             fault_handler,
    fault_handler,          0,             fault_handler, fault_handler,
};
