void startup_32(void) {}
