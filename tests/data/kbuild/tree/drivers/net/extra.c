void extra(void) {}
