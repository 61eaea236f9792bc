/* The C firmware's console and exit (startup.c). */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

/* Prints a NUL-terminated string on QEMU's stdout. */
void say(const char *text);
/* Ends the emulation: exit status 0 when ok, 1 otherwise. */
void finish(int ok) __attribute__((noreturn));

#endif
