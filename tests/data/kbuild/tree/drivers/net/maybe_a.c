void maybe_a(void) {}
