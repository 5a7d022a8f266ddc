void inner_b(void) {}
