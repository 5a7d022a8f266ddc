void nope(void) {}
