void no_root(void) {}
