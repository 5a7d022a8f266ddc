void arch_core(void) {}
