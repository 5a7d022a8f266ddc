void startup_64(void) {}
