int setup_arch(void) { return 0; }
