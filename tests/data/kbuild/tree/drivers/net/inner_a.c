void inner_a(void) {}
