void lazy(void) {}
